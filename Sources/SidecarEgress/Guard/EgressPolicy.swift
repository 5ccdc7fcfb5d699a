import NIOCore

/// Which destinations the sidecar may connect to: every public address, plus the
/// operator's allow-list. Pure: no I/O, no clock.
///
/// The allow-list is daemon configuration, never per request. It lets, say, a corporate
/// relay on 10.0.0.0/8 through. A cloud metadata address is allowed only when an entry
/// names that address alone (a /32 or /128): allowing 169.254.0.0/16 for a link-local relay
/// does not open the metadata service.
public struct EgressPolicy: Sendable, Hashable {
    /// The outcome of checking one address.
    public enum Verdict: Sendable, Hashable {
        /// A public address.
        case allowed
        /// A non-public address the allow-list lets through; the matching entry.
        case allowedByOperator(CIDR)
        /// A non-public address; why.
        case forbidden(AddressKind)

        public var isAllowed: Bool {
            switch self {
            case .allowed, .allowedByOperator: true
            case .forbidden: false
            }
        }
    }

    /// Ranges let through although not public. Default: none.
    public var allowedCIDRs: [CIDR]

    public init(allowedCIDRs: [CIDR] = []) {
        self.allowedCIDRs = allowedCIDRs
    }

    /// Checks an address. An IPv6 form that carries an IPv4 address (`::ffff:10.0.0.5`)
    /// is allowed by an entry for either form.
    public func check(_ address: IPAddress) -> Verdict {
        guard let kind = AddressKind.classify(address) else { return .allowed }
        let forms = [address] + address.embeddedIPv4.map { IPAddress.v4($0) }
        for entry in allowedCIDRs {
            if kind == .cloudMetadata, entry.prefixLength != entry.network.bitWidth { continue }
            if forms.contains(where: entry.contains) { return .allowedByOperator(entry) }
        }
        return .forbidden(kind)
    }

    /// Checks a resolved socket address; a Unix domain socket is never a network
    /// destination and is refused as loopback.
    public func check(_ address: SocketAddress) -> Verdict {
        guard let ip = IPAddress(address) else { return .forbidden(.loopback) }
        return check(ip)
    }
}
