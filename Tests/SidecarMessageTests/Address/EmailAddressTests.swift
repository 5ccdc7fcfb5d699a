@testable import SidecarMessage
import Testing

@Suite struct EmailAddressTests {
    /// `init(parsing:)` takes a shortcut for a plain ASCII dot-atom local part; for every
    /// input it must answer exactly as the general parser does, address or error.
    @Test func plainAddressShortcutAgreesWithTheGeneralParser() {
        let local64 = String(repeating: "l", count: 64)
        let inputs = [
            "alice@example.com", "A.B+tag@Example.COM", "x@y", "a!#$%&'*+/=?^_`{|}~-@example.com", "a@b@example.com",
            "@example.com", "a@", "a", ".a@example.com", "a.@example.com", "a..b@example.com", "a b@example.com",
            "\"a b\"@example.com", "\"john\"@example.com", "a\\b@example.com", "a(b)@example.com", "a,b@example.com",
            "zoë@example.com", "a@bücher.example", "a@example..com", "a@-example.com", "a@192.0.2.1", "a@[192.0.2.1]",
            "a\u{0}b@example.com", "a@exam\u{7F}ple.com", local64 + "@example.com", local64 + "l@example.com",
            local64 + "@" + [String](repeating: String(repeating: "d", count: 62), count: 3).joined(separator: ".") + ".com",
            local64 + "@" + [String](repeating: String(repeating: "d", count: 61), count: 3).joined(separator: ".") + ".com",
            // Found by the address fuzz target: a combining mark right after the @ makes one
            // Character of "@\u{301}"; the general parser stepped over that Character and
            // dropped the mark from the domain, the shortcut kept it.
            "jan=?utf-8a?@\u{301}q", "a@\u{301}example.com",
            // Domain literals: only RFC 5321 address literals.
            "a@[IPv6:2001:db8::1]", "a@[)2e.1]", "\"j\\\\d\"@[)2e.1]", "a@[192.0.2.300]",
        ]
        for input in inputs {
            #expect(outcome { () throws(EmailAddress.Invalid) in try EmailAddress(parsing: input) }
                == outcome { () throws(EmailAddress.Invalid) in try EmailAddress(general: input) }, "\(input)")
        }
    }

    private func outcome(_ parse: () throws(EmailAddress.Invalid) -> EmailAddress) -> String {
        parseOutcome(parse, describe: { "\($0.localPart) \($0.domain) \($0.asciiDomain)" }, reason: \.reason)
    }
}
