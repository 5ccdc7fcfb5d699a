@testable import SidecarMessage
import Testing

@Suite struct AddressListParserTests {
    private func parse(_ text: String) throws -> [Mailbox] {
        try AddressListParser.parse(text)
    }

    @Test func parsesABareAddress() throws {
        let mailboxes = try parse("alice@example.com")
        #expect(mailboxes.count == 1)
        #expect(mailboxes.first?.displayName == nil)
        #expect(mailboxes.first?.address.addressSpec == "alice@example.com")
    }

    @Test(arguments: [
        ("Alice Smith <alice@example.com>", "Alice Smith", "alice@example.com"),
        ("\"Smith, Alice\" <alice@example.com>", "Smith, Alice", "alice@example.com"),
        ("\"Alice \\\"Al\\\" Smith\" <alice@example.com>", "Alice \"Al\" Smith", "alice@example.com"),
        ("  Alice    Smith   <alice@example.com>  ", "Alice Smith", "alice@example.com"),
        ("Alice (Sales) Smith <alice@example.com>", "Alice Smith", "alice@example.com"),
        ("John Q. Public <jqp@example.com>", "John Q. Public", "jqp@example.com"),
        ("alice@example.com <alice@example.com>", "alice@example.com", "alice@example.com"),
        ("<alice@example.com>", nil, "alice@example.com"),
        ("Zoë Fälk <zoe@example.com>", "Zoë Fälk", "zoe@example.com"),
        ("\"  spaced  name \" <a@example.com>", "spaced  name", "a@example.com"),
        ("alice@example.com (Alice)", nil, "alice@example.com"),
    ] as [(String, String?, String)])
    func parsesDisplayNames(input: String, name: String?, address: String) throws {
        let mailboxes = try parse(input)
        #expect(mailboxes.count == 1)
        #expect(mailboxes.first?.displayName == name)
        #expect(mailboxes.first?.address.addressSpec == address)
    }

    @Test func splitsListsAtCommasOutsideQuotesAndBrackets() throws {
        let mailboxes = try parse(
            "\"Doe, John\" <john@example.com>, jane@example.com,Bob <bob@example.com> , \"x,y\"@example.com")
        #expect(mailboxes.map(\.address.addressSpec) == [
            "john@example.com", "jane@example.com", "bob@example.com", "\"x,y\"@example.com",
        ])
        #expect(mailboxes.map(\.displayName) == ["Doe, John", nil, "Bob", nil])
    }

    @Test func skipsEmptyEntries() throws {
        let mailboxes = try parse(" , a@example.com,, b@example.com, ")
        #expect(mailboxes.map(\.address.addressSpec) == ["a@example.com", "b@example.com"])
        #expect(try parse("").isEmpty)
        #expect(try parse("  ,  ").isEmpty)
    }

    @Test(arguments: [
        "john",
        "john@",
        "@example.com",
        "john doe@example.com",
        "John Doe john@example.com",
        "a@example..com",
        "a@-example.com",
        "a@example-.com",
        "a@exa mple.com",
        "a@exa_mple.com",
        "a..b@example.com",
        ".a@example.com",
        "a.@example.com",
        "a@192.0.2.1",
        "\"unterminated <a@example.com>",
        "Name <a@example.com",
        "a@example.com>",
        "Name <a@example.com> trailing",
        "Name <a@example.com> <b@example.com>",
        "Name <>",
        "<@route.example:a@example.com>",
        "a(b@example.com",
        "a)b@example.com",
        "a<b@example.com",
        "a\u{0}b@example.com",
        "a@exam\u{7F}ple.com",
        String(repeating: "l", count: 65) + "@example.com",
        "a@" + String(repeating: "d", count: 64) + ".com",
        "a@" + Array(repeating: "label", count: 50).joined(separator: ".") + ".com",
        "\"\"@example.com",
        "a@[192.0.2.1",
        "a@@example.com",
    ])
    func refusesMalformedEntries(input: String) {
        #expect(throws: AddressListParser.Invalid.self) { try parse(input) }
    }

    /// `parse` takes a shortcut for a bare address; for every input it must answer exactly
    /// as the general parser does, address or error.
    @Test func bareAddressShortcutAgreesWithTheGeneralParser() {
        let inputs = [
            "alice@example.com", "a.b+tag@sub.example.co.uk", "Zoë@exämple.de", "a@xn--exmple-cua.de",
            "john", "john@", "@example.com", "a@example..com", "a@-example.com", "a..b@example.com",
            ".a@example.com", "a.@example.com", "a@192.0.2.1", "a@[192.0.2.1]", "a@[192.0.2.1", "a@@example.com",
            "a\u{0}b@example.com", "a@exam\u{7F}ple.com", "a;b@example.com", "a:b@example.com", "a\\b@example.com",
            "a@example.com\r\n", "a\u{A0}b@example.com", "user@localhost", "a@b", "a@xn--zz",
            String(repeating: "l", count: 65) + "@example.com", "a@" + String(repeating: "d", count: 64) + ".com",
            "a@" + Array(repeating: "label", count: 50).joined(separator: ".") + ".com",
        ]
        for input in inputs {
            let shortcut = outcome { () throws(AddressListParser.Invalid) in try AddressListParser.parse(input) }
            let general = outcome { () throws(AddressListParser.Invalid) in try AddressListParser.parseGeneral(input) }
            #expect(shortcut == general, "\(input)")
        }
    }

    private func outcome(_ parse: () throws(AddressListParser.Invalid) -> [Mailbox]) -> String {
        parseOutcome(
            parse,
            describe: { $0.map { "\($0.displayName ?? "-") \($0.address.localPart) \($0.address.domain) \($0.address.asciiDomain)" }.joined(separator: "|") },
            reason: { "\($0.entry): \($0.reason)" })
    }

    @Test func namesTheOffendingEntryInAList() {
        #expect(throws: AddressListParser.Invalid(entry: "bad@@example.com", reason: "the part before the @ contains a character that is not allowed (quote it if it is intended)")) {
            try parse("good@example.com, bad@@example.com")
        }
    }

    @Test func simplifiesNeedlesslyQuotedLocalParts() throws {
        #expect(try parse("\"john\"@example.com").first?.address.localPart == "john")
        #expect(try parse("\"john doe\"@example.com").first?.address.localPart == "\"john doe\"")
        #expect(try parse("\"a\\\"b\"@example.com").first?.address.localPart == "\"a\\\"b\"")
    }

    @Test func convertsInternationalDomainsToALabels() throws {
        let address = try #require(try parse("Jörg <jörg@Bücher.example>").first?.address)
        #expect(address.domain == "Bücher.example")
        #expect(address.asciiDomain == "xn--bcher-kva.example")
        #expect(address.addressSpec == "jörg@xn--bcher-kva.example")
        #expect(address.requiresSMTPUTF8)
        let asciiLocal = try #require(try parse("info@例え.テスト").first?.address)
        #expect(asciiLocal.addressSpec == "info@xn--r8jz45g.xn--zckzah")
        #expect(!asciiLocal.requiresSMTPUTF8)
    }

    @Test func acceptsIdeographicFullStopsAsDots() throws {
        #expect(try parse("a@例え。テスト").first?.address.asciiDomain == "xn--r8jz45g.xn--zckzah")
    }

    @Test func acceptsDomainLiteralsAndSingleLabelDomains() throws {
        #expect(try parse("postmaster@[192.0.2.1]").first?.address.addressSpec == "postmaster@[192.0.2.1]")
        #expect(try parse("root@localhost").first?.address.addressSpec == "root@localhost")
    }

    /// Only RFC 5321's address literals (what `RCPT TO` carries): IPv4 and `IPv6:`.
    @Test(arguments: [
        "a@[192.0.2.1]", "a@[0.0.0.0]", "a@[255.255.255.255]", "a@[IPv6:2001:db8::1]", "a@[ipv6:::1]",
        "a@[IPv6:1:2:3:4:5:6:7:8]", "a@[IPv6:::ffff:192.0.2.1]", "a@[IPv6:1:2:3:4:5:6:192.0.2.1]",
        "a@[IPv6:1::]",
    ])
    func acceptsAddressLiterals(input: String) throws {
        #expect(try parse(input).first?.address.addressSpec == input)
    }

    @Test(arguments: [
        "a@[]", "a@[192.0.2]", "a@[192.0.2.256]", "a@[192.0.2.1.5]", "a@[1234.0.2.1]", "a@[192.0.2.x]",
        "a@[IPv6:]", "a@[IPv6:1:2:3:4:5:6:7]", "a@[IPv6:1:2:3:4:5:6:7:8:9]", "a@[IPv6:1::2::3]",
        "a@[IPv6:1:2:3:4::5:6:7]", "a@[IPv6:12345::1]", "a@[IPv6:g::1]", "a@[x:y]", "a@[example.com]",
        "\"a\"@[)2e.1]",
    ])
    func refusesOtherDomainLiterals(input: String) {
        #expect(throws: AddressListParser.Invalid.self) { try parse(input) }
        #expect(throws: AddressListParser.Invalid.self) { try parse("Name <\(input)>") }
    }

    /// What parses inside angle brackets, written out, parses bare to the same address.
    /// Found by the address fuzz target: RFC 5322's domain-literal admits `)`, which the
    /// bare path reads as an unmatched comment close, while the angle path accepted
    /// `"j\\d"@[)2e.1]`.
    @Test func anAddressFromAngleBracketsParsesBare() throws {
        let inputs = [
            "\"j\\\\d\"@[)2e.1]", "a@[192.0.2.1]", "a@[IPv6:2001:db8::1]", "a@[a,b]", "a@[a>b]", "a@[a\"b]",
            "a@[(x)]", "\"a b\"@example.com", "\"a,b\"@example.com", "alice@example.com",
        ]
        for input in inputs {
            guard let angled = try? parse("Name <\(input)>").first?.address.addressSpec else { continue }
            let bare = try parse(angled).first?.address.addressSpec
            #expect(bare == angled, "\(input)")
        }
        #expect(throws: AddressListParser.Invalid.self) { try parse("<\"j\\\\d\"@[)2e.1]>") }
    }

    @Test func asciiAddressesDoNotNeedSMTPUTF8() throws {
        #expect(try parse("Zoë <zoe@example.com>").first?.address.requiresSMTPUTF8 == false)
        #expect(try parse("用户@example.com").first?.address.requiresSMTPUTF8 == true)
    }
}
