import SidecarCore

/// A credential's fields as an administrator gives them to ``CredentialAdministration``
/// (the `credentials add` and `rotate` subcommands): stored as given, encrypted, and read
/// in the request's terms when a send names the credential.
public struct CredentialFields: Sendable, Equatable {
    public var host: String
    public var port: Int?
    /// "tls", "starttls" or "none".
    public var security: String?
    public var username: String?
    public var password: Secret?
    public var accessToken: Secret?
    /// "auto", "plain", "login", "xoauth2" or "none".
    public var auth: String?
    public var clientName: String?
    /// Extra trusted CA certificates (PEM), for a corporate relay.
    public var caPEM: String?
    /// Accept self-signed or mismatched certificates.
    public var acceptUnverified: Bool
    /// false: never use PIPELINING / CHUNKING with this server. nil: use when offered.
    public var pipelining: Bool?
    public var chunking: Bool?
    /// Close a pooled connection after this many messages. nil: the daemon's default.
    public var maxMessagesPerConnection: Int?

    public init(
        host: String, port: Int? = nil, security: String? = nil, username: String? = nil, password: Secret? = nil,
        accessToken: Secret? = nil, auth: String? = nil, clientName: String? = nil, caPEM: String? = nil,
        acceptUnverified: Bool = false, pipelining: Bool? = nil, chunking: Bool? = nil, maxMessagesPerConnection: Int? = nil
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.accessToken = accessToken
        self.auth = auth
        self.clientName = clientName
        self.caPEM = caPEM
        self.acceptUnverified = acceptUnverified
        self.pipelining = pipelining
        self.chunking = chunking
        self.maxMessagesPerConnection = maxMessagesPerConnection
    }
}
