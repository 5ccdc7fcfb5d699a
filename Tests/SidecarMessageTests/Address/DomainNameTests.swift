@testable import SidecarMessage
import Testing

@Suite struct DomainNameTests {
    /// `init(parsing:)` takes a shortcut for a plain ASCII name; for every input it must
    /// answer exactly as the general parser does, name or error.
    @Test func plainNameShortcutAgreesWithTheGeneralParser() {
        let label63 = String(repeating: "a", count: 63)
        let inputs = [
            "example.com", "Example.COM", "a", "a-b.c-d.example", "xn--bcher-kva.example", "123.example", "a.b1",
            "localhost", "sub.domain.example.co.uk", "0a.9z", "a.123", "1.2.3.4", "-a.com", "a-.com", "a.-b.com",
            "a.b-", "a..b", ".a", "a.", "", "a_b.com", "exa mple.com", "[192.0.2.1]", "bücher.example",
            "a\u{3002}b", label63 + ".com", label63 + "a.com", [String](repeating: label63, count: 4).joined(separator: "."),
            [String](repeating: "abcdefghi", count: 26).joined(separator: "."), "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p-1",
            "a.\u{7F}", "a.b\n",
        ]
        for input in inputs {
            #expect(outcome { () throws(DomainName.Invalid) in try DomainName(parsing: input) }
                == outcome { () throws(DomainName.Invalid) in try DomainName(general: input) }, "\(input)")
        }
    }

    private func outcome(_ parse: () throws(DomainName.Invalid) -> DomainName) -> String {
        parseOutcome(parse, describe: { "\($0.unicode) \($0.ascii)" }, reason: \.reason)
    }
}
