import SidecarCore

/// The fields of an SMTP credential that are stored encrypted, as JSON, with the wire's
/// field names. The password and access token are ``Secret``s: they never print.
package struct CredentialSecret: Sendable, Equatable, Codable {
    package struct TLSOptions: Sendable, Equatable, Codable {
        /// "1.2" or "1.3".
        package var minVersion: String?
        package var acceptUnverified: Bool?
        package var caPEM: String?
        package var serverName: String?

        package init(minVersion: String? = nil, acceptUnverified: Bool? = nil, caPEM: String? = nil, serverName: String? = nil) {
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

    package var host: String
    package var port: Int?
    /// "tls", "starttls" or "none".
    package var security: String?
    package var username: String?
    package var password: Secret?
    package var accessToken: Secret?
    /// "auto", "plain", "login", "xoauth2" or "none".
    package var auth: String?
    package var tls: TLSOptions?
    package var clientName: String?
    /// false: never use PIPELINING / CHUNKING with this server. nil: use when offered.
    package var pipelining: Bool?
    package var chunking: Bool?
    /// Close a pooled connection after this many messages. nil: the daemon's default.
    package var maxMessagesPerConnection: Int?

    package init(
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
package struct StoredCredential: Sendable, Equatable {
    package var metadata: CredentialMetadata
    package var secret: CredentialSecret
}
