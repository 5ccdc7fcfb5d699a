import SidecarCore

/// The fields of an SMTP credential that are stored encrypted, as JSON, with the wire's
/// field names. The password and access token are ``Secret``s: they never print.
public struct CredentialSecret: Sendable, Equatable, Codable {
    public struct TLSOptions: Sendable, Equatable, Codable {
        /// "1.2" or "1.3".
        public var minVersion: String?
        public var acceptUnverified: Bool?
        public var caPEM: String?
        public var serverName: String?

        public init(minVersion: String? = nil, acceptUnverified: Bool? = nil, caPEM: String? = nil, serverName: String? = nil) {
            self.minVersion = minVersion
            self.acceptUnverified = acceptUnverified
            self.caPEM = caPEM
            self.serverName = serverName
        }

        enum CodingKeys: String, CodingKey {
            case minVersion = "min_version"
            case acceptUnverified = "accept_unverified"
            case caPEM = "ca_pem"
            case serverName = "server_name"
        }
    }

    public var host: String
    public var port: Int?
    /// "tls", "starttls" or "none".
    public var security: String?
    public var username: String?
    public var password: Secret?
    public var accessToken: Secret?
    /// "auto", "plain", "login", "xoauth2", "oauthbearer" or "none".
    public var auth: String?
    public var tls: TLSOptions?
    public var clientName: String?
    /// false: never use PIPELINING / CHUNKING with this server. nil: use when offered.
    public var pipelining: Bool?
    public var chunking: Bool?
    /// Close a pooled connection after this many messages. nil: the daemon's default.
    public var maxMessagesPerConnection: Int?

    public init(
        host: String, port: Int? = nil, security: String? = nil, username: String? = nil, password: Secret? = nil,
        accessToken: Secret? = nil, auth: String? = nil, tls: TLSOptions? = nil, clientName: String? = nil,
        pipelining: Bool? = nil, chunking: Bool? = nil, maxMessagesPerConnection: Int? = nil
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.accessToken = accessToken
        self.auth = auth
        self.tls = tls
        self.clientName = clientName
        self.pipelining = pipelining
        self.chunking = chunking
        self.maxMessagesPerConnection = maxMessagesPerConnection
    }

    enum CodingKeys: String, CodingKey {
        case host, port, security, username, password, auth, tls, pipelining, chunking
        case accessToken = "access_token"
        case clientName = "client_name"
        case maxMessagesPerConnection = "max_messages_per_connection"
    }
}

/// A stored credential, decrypted.
public struct StoredCredential: Sendable, Equatable {
    public var metadata: CredentialMetadata
    public var secret: CredentialSecret
}
