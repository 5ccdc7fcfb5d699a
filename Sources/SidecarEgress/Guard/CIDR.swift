/// An address range: a network address and a prefix length (`10.0.0.0/8`, `fd00::/8`).
/// Used for the operator's allow-list and the built-in forbidden ranges.
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    /// The first address of the range (host bits zero).
    public let network: IPAddress
    /// The number of leading bits that must match: 0...32 for IPv4, 0...128 for IPv6.
    public let prefixLength: Int

    /// Parses `a.b.c.d/n`, `x:y::/n`, or a single address (a /32 or /128). Returns nil for
    /// a malformed text, an out-of-range prefix, or host bits set (`10.0.0.1/8` is
    /// refused as a likely typo rather than silently widened).
    public init?(_ text: String) {
        let pieces = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(pieces[0])) else { return nil }
        let maximum = address.bitWidth
        var length = maximum
        if pieces.count == 2 {
            let digits = pieces[1]
            guard (1...3).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }), let parsed = Int(digits),
                (0...maximum).contains(parsed)
            else { return nil }
            length = parsed
        }
        guard address.masked(to: length) == address else { return nil }
        self.network = address
        self.prefixLength = length
    }

    /// A range from an address and prefix length; host bits are cleared.
    public init(network: IPAddress, prefixLength: Int) {
        precondition((0...network.bitWidth).contains(prefixLength), "prefix length out of range")
        self.network = network.masked(to: prefixLength)
        self.prefixLength = prefixLength
    }

    /// Whether `address` is in the range. An IPv4 range never contains an IPv6 address and
    /// the reverse; IPv4-mapped forms are handled by ``EgressPolicy``, not here.
    public func contains(_ address: IPAddress) -> Bool {
        switch (network, address) {
        case (.v4, .v4), (.v6, .v6):
            return address.masked(to: prefixLength) == network
        case (.v4, .v6), (.v6, .v4):
            return false
        }
    }

    public var description: String { "\(network)/\(prefixLength)" }
}

extension IPAddress {
    var bitWidth: Int {
        switch self {
        case .v4: 32
        case .v6: 128
        }
    }

    func masked(to prefixLength: Int) -> IPAddress {
        switch self {
        case .v4(let value):
            let mask: UInt32 = prefixLength == 0 ? 0 : ~UInt32(0) << (32 - prefixLength)
            return .v4(value & mask)
        case .v6(let value):
            let mask: UInt128 = prefixLength == 0 ? 0 : ~UInt128(0) << (128 - prefixLength)
            return .v6(value & mask)
        }
    }
}
