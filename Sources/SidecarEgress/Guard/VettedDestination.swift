import NIOCore

/// A host and port the SSRF guard has vetted, pinned to the addresses it resolved to.
///
/// Only ``DestinationResolver/vet(host:port:field:)`` makes one: the initializer is not
/// public. Code that opens connections takes a `VettedDestination` instead of a host, so
/// it cannot be handed a host that skipped the guard, and it connects to ``addresses``
/// only (resolving ``host`` again would reopen the DNS-rebinding hole).
public struct VettedDestination: Sendable, Hashable {
    /// The host as the request gave it: for SNI, certificate checks and messages.
    public let host: String
    public let port: Int
    /// Every address the host resolved to, each allowed by the egress policy, in the
    /// order to try them, each with ``port``. Never empty.
    public let addresses: [SocketAddress]

    init(host: String, port: Int, addresses: [SocketAddress]) {
        precondition(!addresses.isEmpty, "a vetted destination has at least one address")
        self.host = host
        self.port = port
        self.addresses = addresses
    }
}
