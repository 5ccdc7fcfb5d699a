@testable import SidecarMessage
import Testing

/// Expected values come from Python's `punycode` and `idna` codecs, an independent
/// implementation of RFC 3492 and RFC 3490.
@Suite struct PunycodeTests {
    @Test(arguments: [
        ("bücher", "bcher-kva"),
        ("münchen", "mnchen-3ya"),
        ("例え", "r8jz45g"),
        ("日本語", "wgv71a119e"),
        ("παράδειγμα", "hxajbheg2az3al"),
        ("пример", "e1afmkfd"),
        ("bären-öl", "bren-l-bua2m"),
        ("ñandú", "and-6ma2c"),
        ("☃-⌘", "--dqo34k"),
        ("i❤", "i-7iq"),
        // RFC 3492 §7.1 (B), Chinese (simplified).
        ("\u{4ED6}\u{4EEC}\u{4E3A}\u{4EC0}\u{4E48}\u{4E0D}\u{8BF4}\u{4E2D}\u{6587}", "ihqwcrb4cv8a8dqg056pqjye"),
    ])
    func encodesLikeTheReference(input: String, expected: String) {
        #expect(Punycode.encode(input) == expected)
    }

    @Test(arguments: [
        ("Bücher.example", "xn--bcher-kva.example"),
        ("münchen.de", "xn--mnchen-3ya.de"),
        ("例え.テスト", "xn--r8jz45g.xn--zckzah"),
        ("пример.испытание", "xn--e1afmkfd.xn--80akhbyknj4f"),
        ("MÜNCHEN.DE", "xn--mnchen-3ya.DE"),
        ("example.com", "example.com"),
    ])
    func convertsDomainsToASCII(input: String, expected: String) throws {
        #expect(try DomainName(parsing: input).ascii == expected)
    }

    @Test func normalizesToNFCBeforeEncoding() throws {
        // "u" + combining diaeresis is the same domain as the precomposed "ü".
        #expect(try DomainName(parsing: "bu\u{308}cher.example").ascii == "xn--bcher-kva.example")
    }

    @Test(arguments: ["exa mple.com", "a☺.com", "-abc.com", String(repeating: "ü", count: 60) + ".com", "a.123"])
    func refusesInvalidDomains(input: String) {
        #expect(throws: DomainName.Invalid.self) { try DomainName(parsing: input) }
    }
}
