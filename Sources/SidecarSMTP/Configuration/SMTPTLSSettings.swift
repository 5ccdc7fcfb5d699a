/// TLS settings for the connection to the SMTP server.
public struct SMTPTLSSettings: Sendable, Hashable {
    public enum MinimumVersion: String, Sendable, Hashable, CaseIterable {
        case tls12 = "1.2"
        case tls13 = "1.3"
    }

    /// The lowest TLS version accepted. Default TLS 1.2.
    public var minimumVersion: MinimumVersion
    /// Accept a certificate that is self-signed, expired, from an unknown CA or for
    /// another host name. A security trade-off; default false.
    public var acceptUnverifiedCertificates: Bool
    /// Extra trusted CA certificates (PEM), in addition to the system's trust store.
    public var additionalCAPEM: String?
    /// The name sent as SNI and checked against the certificate; default: the host.
    /// When the name is an IP address no SNI is sent and the certificate must name the
    /// address.
    public var serverName: String?

    public init(
        minimumVersion: MinimumVersion = .tls12,
        acceptUnverifiedCertificates: Bool = false,
        additionalCAPEM: String? = nil,
        serverName: String? = nil
    ) {
        self.minimumVersion = minimumVersion
        self.acceptUnverifiedCertificates = acceptUnverifiedCertificates
        self.additionalCAPEM = additionalCAPEM
        self.serverName = serverName
    }

    /// The settings that shape an `NIOSSLContext` (everything but the per-connection
    /// server name): the key of ``TLSContextCache``.
    var contextKey: TLSContextKey {
        TLSContextKey(
            minimumVersion: minimumVersion,
            acceptUnverifiedCertificates: acceptUnverifiedCertificates,
            additionalCAPEM: additionalCAPEM
        )
    }
}

/// What distinguishes one cached `NIOSSLContext` from another.
struct TLSContextKey: Sendable, Hashable {
    var minimumVersion: SMTPTLSSettings.MinimumVersion
    var acceptUnverifiedCertificates: Bool
    var additionalCAPEM: String?
}
