import Testing

@testable import SidecarEgress

@Suite struct AddressClassificationTests {
    @Test(arguments: [
        // IPv4
        ("0.0.0.0", AddressKind.unspecified),
        ("0.1.2.3", .thisNetwork),
        ("10.0.0.5", .privateNetwork),
        ("10.255.255.255", .privateNetwork),
        ("100.64.0.1", .sharedAddressSpace),
        ("100.127.255.254", .sharedAddressSpace),
        ("127.0.0.1", .loopback),
        ("127.255.255.254", .loopback),
        ("169.254.0.1", .linkLocal),
        ("169.254.169.254", .cloudMetadata),
        ("169.254.170.2", .cloudMetadata),
        ("100.100.100.200", .cloudMetadata),
        ("168.63.129.16", .cloudMetadata),
        ("192.0.0.192", .cloudMetadata),
        ("172.16.0.1", .privateNetwork),
        ("172.31.255.255", .privateNetwork),
        ("192.0.0.8", .reserved),
        ("192.0.2.1", .documentation),
        ("192.88.99.1", .reserved),
        ("192.168.1.1", .privateNetwork),
        ("198.18.0.1", .benchmarking),
        ("198.19.255.255", .benchmarking),
        ("198.51.100.7", .documentation),
        ("203.0.113.7", .documentation),
        ("224.0.0.1", .multicast),
        ("239.255.255.250", .multicast),
        ("240.0.0.1", .reserved),
        ("255.255.255.255", .broadcast),
        // IPv6
        ("::", .unspecified),
        ("::1", .loopback),
        ("fc00::1", .privateNetwork),
        ("fd12:3456::1", .privateNetwork),
        ("fd00:ec2::254", .cloudMetadata),
        ("fe80::1", .linkLocal),
        ("febf::1", .linkLocal),
        ("fec0::1", .privateNetwork),
        ("ff02::1", .multicast),
        ("ff0e::1", .multicast),
        ("2001:db8::1", .documentation),
        ("3fff::1", .documentation),
        ("2001:2::1", .benchmarking),
        ("100::1", .reserved),
        ("64:ff9b:1::1", .reserved),
        ("2001:10::1", .reserved),
        // IPv4 inside IPv6
        ("::ffff:127.0.0.1", .loopback),
        ("::ffff:7f00:1", .loopback),
        ("::ffff:10.0.0.5", .privateNetwork),
        ("::ffff:169.254.169.254", .cloudMetadata),
        ("::ffff:0.0.0.0", .unspecified),
        ("::127.0.0.1", .loopback),
        ("::192.168.0.1", .privateNetwork),
        ("64:ff9b::10.0.0.1", .privateNetwork),
        ("64:ff9b::7f00:1", .loopback),
        ("64:ff9b::a9fe:a9fe", .cloudMetadata),
        ("2002:7f00:1::", .loopback),
        ("2002:c0a8:101::1", .privateNetwork),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", .loopback),  // Teredo client ~0x80fffffe = 127.0.0.1
        ("2001:0:a00:1::1", .privateNetwork),  // Teredo server 10.0.0.1
    ])
    func refusesNonPublic(address: String, kind: AddressKind) throws {
        let ip = try #require(IPAddress(address))
        #expect(AddressKind.classify(ip) == kind)
        #expect(EgressPolicy().check(ip) == .forbidden(kind))
    }

    @Test(arguments: [
        "8.8.8.8", "1.1.1.1", "93.184.216.34", "100.63.255.255", "100.128.0.0", "172.15.255.255", "172.32.0.0",
        "169.253.255.255", "198.17.255.255", "198.20.0.0", "223.255.255.255", "11.0.0.1", "2001:4860:4860::8888",
        "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
        "2001:0:808:808:8000:63bf:f7f7:f7f7",  // Teredo: server 8.8.8.8, client ~f7f7f7f7 = 8.8.8.8
    ])
    func allowsPublic(address: String) throws {
        let ip = try #require(IPAddress(address))
        #expect(AddressKind.classify(ip) == nil)
        #expect(EgressPolicy().check(ip) == .allowed)
    }
}

@Suite struct EgressPolicyTests {
    @Test func allowListLetsLoopbackThrough() throws {
        let entry = try #require(CIDR("127.0.0.1/32"))
        let policy = EgressPolicy(allowedCIDRs: [entry])
        #expect(policy.check(try #require(IPAddress("127.0.0.1"))) == .allowedByOperator(entry))
        #expect(policy.check(try #require(IPAddress("::ffff:127.0.0.1"))) == .allowedByOperator(entry))
        #expect(policy.check(try #require(IPAddress("127.0.0.2"))) == .forbidden(.loopback))
        #expect(policy.check(try #require(IPAddress("::1"))) == .forbidden(.loopback))
    }

    @Test func corporateRelayRange() throws {
        let policy = EgressPolicy(allowedCIDRs: [try #require(CIDR("10.0.0.0/8"))])
        #expect(policy.check(try #require(IPAddress("10.20.30.40"))).isAllowed)
        #expect(!policy.check(try #require(IPAddress("192.168.1.1"))).isAllowed)
    }

    @Test func broadRangeDoesNotOpenMetadata() throws {
        let policy = EgressPolicy(allowedCIDRs: [try #require(CIDR("169.254.0.0/16")), try #require(CIDR("fc00::/7"))])
        #expect(policy.check(try #require(IPAddress("169.254.1.1"))).isAllowed)
        #expect(policy.check(try #require(IPAddress("169.254.169.254"))) == .forbidden(.cloudMetadata))
        #expect(policy.check(try #require(IPAddress("fd00:ec2::254"))) == .forbidden(.cloudMetadata))
        let exact = EgressPolicy(allowedCIDRs: [try #require(CIDR("169.254.169.254/32"))])
        #expect(exact.check(try #require(IPAddress("169.254.169.254"))).isAllowed)
    }

    @Test func defaultAllowsNothingPrivate() {
        #expect(EgressPolicy().allowedCIDRs.isEmpty)
    }
}
