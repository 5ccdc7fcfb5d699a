/// Why an address is not a public destination. The ``description`` completes the sentence
/// "resolves to …" in error messages.
public enum AddressKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// 0.0.0.0 or `::`: connecting to it reaches this host.
    case unspecified
    /// 0.0.0.0/8 ("this network").
    case thisNetwork
    /// 127.0.0.0/8, `::1`.
    case loopback
    /// RFC 1918 (10/8, 172.16/12, 192.168/16), unique-local fc00::/7, deprecated site-local fec0::/10.
    case privateNetwork
    /// Carrier-grade NAT shared space 100.64.0.0/10 (RFC 6598).
    case sharedAddressSpace
    /// 169.254.0.0/16, fe80::/10.
    case linkLocal
    /// A cloud provider's instance metadata service (169.254.169.254, 169.254.170.2,
    /// fd00:ec2::254, 100.100.100.200, 168.63.129.16, 192.0.0.192).
    case cloudMetadata
    /// 224.0.0.0/4, ff00::/8.
    case multicast
    /// 255.255.255.255.
    case broadcast
    /// 198.18.0.0/15, 2001:2::/48 (RFC 2544, RFC 5180).
    case benchmarking
    /// 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20.
    case documentation
    /// Special-purpose or reserved space: 192.0.0.0/24, 192.88.99.0/24, 240.0.0.0/4,
    /// 100::/64 (discard), 64:ff9b:1::/48 (local NAT64), 2001::/23 outside Teredo.
    case reserved

    public var description: String {
        switch self {
        case .unspecified: "an unspecified address"
        case .thisNetwork: "a \"this network\" address"
        case .loopback: "a loopback address"
        case .privateNetwork: "a private address"
        case .sharedAddressSpace: "a carrier-grade NAT address"
        case .linkLocal: "a link-local address"
        case .cloudMetadata: "a cloud metadata address"
        case .multicast: "a multicast address"
        case .broadcast: "a broadcast address"
        case .benchmarking: "a benchmarking address"
        case .documentation: "a documentation address"
        case .reserved: "a reserved address"
        }
    }
}

extension AddressKind {
    /// Metadata endpoints first: they sit inside wider ranges (link-local, CGNAT, ULA) and
    /// deserve the more precise name.
    static let metadataHosts: [IPAddress] = [
        .v4(0xA9FE_A9FE),  // 169.254.169.254 AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle
        .v4(0xA9FE_AA02),  // 169.254.170.2 AWS ECS task metadata
        .v4(0x6464_64C8),  // 100.100.100.200 Alibaba Cloud
        .v4(0xA83F_8110),  // 168.63.129.16 Azure WireServer
        .v4(0xC000_00C0),  // 192.0.0.192 Oracle Cloud
        .v6(0xFD00_0EC2_0000_0000_0000_0000_0000_0254),  // fd00:ec2::254 AWS IMDS over IPv6
    ]

    static let ipv4Ranges: [(CIDR, AddressKind)] = [
        (cidr(.v4(0xFFFF_FFFF), 32), .broadcast),
        (cidr(.v4(0), 32), .unspecified),
        (cidr(.v4(0x0000_0000), 8), .thisNetwork),
        (cidr(.v4(0x0A00_0000), 8), .privateNetwork),
        (cidr(.v4(0x6440_0000), 10), .sharedAddressSpace),
        (cidr(.v4(0x7F00_0000), 8), .loopback),
        (cidr(.v4(0xA9FE_0000), 16), .linkLocal),
        (cidr(.v4(0xAC10_0000), 12), .privateNetwork),
        (cidr(.v4(0xC000_0000), 24), .reserved),
        (cidr(.v4(0xC000_0200), 24), .documentation),
        (cidr(.v4(0xC058_6300), 24), .reserved),
        (cidr(.v4(0xC0A8_0000), 16), .privateNetwork),
        (cidr(.v4(0xC612_0000), 15), .benchmarking),
        (cidr(.v4(0xC633_6400), 24), .documentation),
        (cidr(.v4(0xCB00_7100), 24), .documentation),
        (cidr(.v4(0xE000_0000), 4), .multicast),
        (cidr(.v4(0xF000_0000), 4), .reserved),
    ]

    static let ipv6Ranges: [(CIDR, AddressKind)] = [
        (cidr(.v6(0), 128), .unspecified),
        (cidr(.v6(1), 128), .loopback),
        (cidr(.v6(0x0064_FF9B_0001 << 80), 48), .reserved),
        (cidr(.v6(0x0100 << 112), 64), .reserved),
        (cidr(.v6(0x2001_0002 << 96), 48), .benchmarking),
        (cidr(.v6(0x2001_0DB8 << 96), 32), .documentation),
        (cidr(.v6(0x3FFF << 112), 20), .documentation),
        (cidr(.v6(0xFC00 << 112), 7), .privateNetwork),
        (cidr(.v6(0xFE80 << 112), 10), .linkLocal),
        (cidr(.v6(0xFEC0 << 112), 10), .privateNetwork),
        (cidr(.v6(0xFF00 << 112), 8), .multicast),
    ]

    /// 2001::/23 is IETF protocol assignments; of it only Teredo (2001::/32, checked through
    /// its embedded addresses) and a few anycast services are routable. Refused as reserved,
    /// except Teredo.
    static let ietfProtocolAssignments = cidr(.v6(0x2001 << 112), 23)
    static let teredo = cidr(.v6(0x2001_0000 << 96), 32)

    private static func cidr(_ address: IPAddress, _ length: Int) -> CIDR {
        CIDR(network: address, prefixLength: length)
    }

    /// The kind of a non-public address, or nil for a public one. IPv6 forms that carry an
    /// IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) take the kind of that address.
    public static func classify(_ address: IPAddress) -> AddressKind? {
        if metadataHosts.contains(address) { return .cloudMetadata }
        let ranges: [(CIDR, AddressKind)]
        switch address {
        case .v4: ranges = ipv4Ranges
        case .v6: ranges = ipv6Ranges
        }
        for (range, kind) in ranges where range.contains(address) {
            return kind
        }
        for embedded in address.embeddedIPv4 {
            if let kind = classify(.v4(embedded)) { return kind }
        }
        if ietfProtocolAssignments.contains(address), !teredo.contains(address) { return .reserved }
        return nil
    }
}
