import Testing

@testable import SidecarEgress

@Suite struct CIDRTests {
    @Test(arguments: [
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("127.0.0.1", "127.0.0.1/32"),
        ("127.0.0.1/32", "127.0.0.1/32"),
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("192.168.0.0/16", "192.168.0.0/16"),
        ("::1", "::1/128"),
        ("::1/128", "::1/128"),
        ("fc00::/7", "fc00::/7"),
        ("2001:DB8::/32", "2001:db8::/32"),
        ("::/0", "::/0"),
        ("::ffff:10.0.0.0/104", "::ffff:10.0.0.0/104"),
    ])
    func parsesValidRanges(text: String, canonical: String) throws {
        let cidr = try #require(CIDR(text))
        #expect(cidr.description == canonical)
    }

    @Test(arguments: [
        "", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.1/8", "10.0.0.0/8/8",
        "10.0.0/8", "10.0.0.256/32", "010.0.0.0/8", "::1/129", "fe80::1%eth0/64", "fc00::1/7", "example.com/8",
        "10.0.0.0/ 8", " 10.0.0.0/8",
    ])
    func refusesMalformedRanges(text: String) {
        #expect(CIDR(text) == nil)
    }

    @Test(arguments: [
        ("10.0.0.0/8", "10.0.0.0", true),
        ("10.0.0.0/8", "10.255.255.255", true),
        ("10.0.0.0/8", "11.0.0.0", false),
        ("10.0.0.0/8", "9.255.255.255", false),
        ("172.16.0.0/12", "172.31.255.255", true),
        ("172.16.0.0/12", "172.32.0.0", false),
        ("127.0.0.1/32", "127.0.0.1", true),
        ("127.0.0.1/32", "127.0.0.2", false),
        ("0.0.0.0/0", "203.0.113.9", true),
        ("0.0.0.0/0", "::1", false),
        ("::/0", "10.0.0.1", false),
        ("::/0", "2001:db8::1", true),
        ("fc00::/7", "fdff:ffff::1", true),
        ("fc00::/7", "fe00::1", false),
        ("fe80::/10", "febf:ffff::1", true),
        ("fe80::/10", "fec0::1", false),
        ("::1/128", "::1", true),
        ("::1/128", "::2", false),
        ("2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true),
        ("2001:db8::/32", "2001:db9::", false),
    ])
    func containment(range: String, address: String, expected: Bool) throws {
        let cidr = try #require(CIDR(range))
        let ip = try #require(IPAddress(address))
        #expect(cidr.contains(ip) == expected)
    }
}

@Suite struct IPAddressTests {
    @Test(arguments: [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("0", "0.0.0.0"),
        ("0xA9.0xFE.0xA9.0xFE", "169.254.169.254"),
        ("8.8.8.8", "8.8.8.8"),
    ])
    func lenientIPv4FollowsInetAton(text: String, expected: String) throws {
        let address = try #require(IPAddress(lenientIPv4: text))
        #expect(address.description == expected)
    }

    @Test(arguments: ["4294967296", "256.0.0.1", "1.2.3.4.5", "1.2.65536", "08.1.1.1", "0xg.1", "1..1", ""])
    func lenientIPv4RefusesOutOfRange(text: String) {
        #expect(IPAddress(lenientIPv4: text) == nil)
    }

    @Test(arguments: ["127.1", "0x7f.0.0.1", "01.2.3.4", "1.2.3", "256.1.1.1", "1.2.3.4.", "fe80::1%eth0", "[::1]", "example.com"])
    func canonicalParserRefusesNonCanonicalForms(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test(arguments: [("::ffff:127.0.0.1", "::ffff:127.0.0.1"), ("2001:DB8:0:0::1", "2001:db8::1"), ("0.0.0.0", "0.0.0.0")])
    func printsCanonically(text: String, expected: String) throws {
        #expect(try #require(IPAddress(text)).description == expected)
    }
}
