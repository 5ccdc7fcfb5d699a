import Logging
import NIOCore
import SidecarCore

/// The SSRF guard with DNS pinning: resolves a host once, refuses it if any of its
/// addresses is not public (unless the operator's allow-list lets it through), and returns
/// the vetted addresses for the caller to connect to, in order, keeping the host name for
/// SNI and certificate checks. Connecting to anything but the returned addresses would
/// resolve the name a second time and reopen the DNS-rebinding hole.
///
/// It is the only maker of ``VettedDestination``: every operation that opens a connection
/// (an SMTP send or verify, a URL attachment fetch) takes one, so none can skip the guard.
public struct DestinationResolver: Sendable {
    public var policy: EgressPolicy
    public var resolver: any HostNameResolver
    public var logger: Logger

    public init(
        policy: EgressPolicy = EgressPolicy(),
        resolver: any HostNameResolver = SystemHostNameResolver(),
        logger: Logger = Logger(label: "smtp-sidecar.egress")
    ) {
        self.policy = policy
        self.resolver = resolver
        self.logger = logger
    }

    /// Resolves `host` once and vets every address.
    ///
    /// - Parameters:
    ///   - host: a name or an address literal (IPv6 with or without brackets).
    ///   - field: the request field the host came from, for the error.
    /// - Returns: the host pinned to the addresses to connect to, each with `port`.
    /// - Throws: `destination_forbidden` when the host is or resolves to a non-public address
    ///   or is an obfuscated numeric form; `invalid_params` for a malformed host;
    ///   `connection_failed` when the name does not resolve; `timeout` when DNS is too slow.
    public func vet(host: String, port: Int, field: String? = nil) async throws(SidecarError) -> VettedDestination {
        // Only errors show the host; a vetted send should not pay for cleaning it.
        lazy var shown = Self.printable(host)
        guard (1...65535).contains(port) else {
            throw SidecarError(code: .invalidParams, message: "The port \(port) is not valid.", field: field)
        }
        switch HostLiteral(host) {
        case .address(let address):
            try check(address, refusal: "The host \"\(shown)\" is", field: field)
            return VettedDestination(
                host: host, port: port, addresses: [try Self.socketAddress(address, port: port, field: field)])
        case .obfuscatedIPv4(let address):
            if case .forbidden(let kind) = policy.check(address) {
                throw SidecarError(
                    code: .destinationForbidden,
                    message: "The host \"\(shown)\" is a disguised way of writing \(address), \(kind); the sidecar connects only to public addresses.",
                    field: field
                )
            }
            throw SidecarError(
                code: .destinationForbidden,
                message: "The host \"\(shown)\" is a non-standard way of writing an IPv4 address; write it as \(address).",
                field: field
            )
        case .invalidNumeric:
            throw SidecarError(
                code: .destinationForbidden,
                message: "The host \"\(shown)\" looks like a number but is not a valid IPv4 address.",
                field: field
            )
        case .invalid:
            throw SidecarError(code: .invalidParams, message: "The host \"\(shown)\" is not a valid host name.", field: field)
        case .name(let name):
            let addresses: [SocketAddress]
            do {
                addresses = try await resolver.resolve(host: name, port: port)
            } catch HostNameResolutionError.timedOut {
                throw SidecarError(
                    code: .timeout,
                    message: "Looking up the host \"\(shown)\" in DNS took too long.",
                    retryable: true,
                    field: field
                )
            } catch HostNameResolutionError.notFound {
                throw SidecarError(
                    code: .connectionFailed,
                    message: "The host \"\(shown)\" was not found in DNS. Check the host name.",
                    field: field
                )
            } catch {
                throw SidecarError(
                    code: .connectionFailed,
                    message: "The host \"\(shown)\" could not be looked up in DNS.",
                    retryable: true,
                    field: field
                )
            }
            guard !addresses.isEmpty else {
                throw SidecarError(
                    code: .connectionFailed,
                    message: "The host \"\(shown)\" was not found in DNS. Check the host name.",
                    field: field
                )
            }
            for socketAddress in addresses {
                guard let address = IPAddress(socketAddress) else {
                    throw SidecarError(
                        code: .destinationForbidden,
                        message: "The host \"\(shown)\" resolves to a local socket.",
                        field: field
                    )
                }
                try check(address, refusal: "The host \"\(shown)\" resolves to", field: field)
            }
            logger.debug(
                "destination vetted",
                metadata: ["egress_host": "\(name)", "egress_addresses": "\(addresses.map { "\($0)" })"]
            )
            return VettedDestination(host: host, port: port, addresses: addresses)
        }
    }

    private func check(_ address: IPAddress, refusal: @autoclosure () -> String, field: String?) throws(SidecarError) {
        switch policy.check(address) {
        case .allowed:
            return
        case .allowedByOperator(let entry):
            logger.debug("non-public destination allowed by configuration", metadata: ["egress_allowed_cidr": "\(entry)"])
        case .forbidden(let kind):
            throw SidecarError(
                code: .destinationForbidden,
                message: "\(refusal()) \(kind) (\(address)); the sidecar connects only to public addresses.",
                field: field
            )
        }
    }

    private static func socketAddress(_ address: IPAddress, port: Int, field: String?) throws(SidecarError) -> SocketAddress {
        do {
            return try SocketAddress(ipAddress: address.description, port: port)
        } catch {
            throw SidecarError(code: .invalidParams, message: "The address \(address) is not usable.", field: field)
        }
    }

    /// The host as it may appear in a message: printable ASCII, at most 100 characters.
    static func printable(_ text: String) -> String {
        let cleaned = String(text.unicodeScalars.prefix(100).map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" })
        return text.unicodeScalars.count > 100 ? cleaned + "…" : cleaned
    }
}
