import SidecarCore

/// An SMTP credential given inline in a request. The password and token are ``Secret``s:
/// they are decoded from the request but never rendered, logged or encoded back.
public struct CredentialParams: Sendable, Equatable, Codable {
    /// How the connection is secured.
    public enum Security: String, Sendable, Codable, CaseIterable {
        /// Implicit TLS from the first byte (RFC 8314), port 465 by default.
        case tls
        /// Plaintext, then STARTTLS (RFC 3207), which is required: never continues without it.
        case starttls
        /// No encryption. Only when the credential says so explicitly.
        case none
    }

    /// The SASL mechanism, or `auto` to pick the strongest the server offers.
    public enum AuthMechanism: String, Sendable, Codable, CaseIterable {
        case auto, plain, login, xoauth2, oauthbearer, none
    }

    public struct TLSOptions: Sendable, Equatable, Codable {
        public enum MinimumVersion: String, Sendable, Codable, CaseIterable {
            case tls12 = "1.2"
            case tls13 = "1.3"
        }

        public var minVersion: MinimumVersion?
        /// Accept self-signed or hostname-mismatched certificates. Off by default.
        public var acceptUnverified: Bool?
        /// Extra trusted CA certificates (PEM), for corporate relays.
        public var caPEM: String?
        /// Name to verify the certificate against (and SNI), when it differs from `host`.
        public var serverName: String?

        public init(minVersion: MinimumVersion? = nil, acceptUnverified: Bool? = nil, caPEM: String? = nil, serverName: String? = nil) {
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

    /// Sending limits of the credential's provider, enforced by the sidecar across restarts.
    public struct Limits: Sendable, Hashable, Codable {
        /// The presets the daemon knows.
        public static let presets = ["gmail", "ses-sandbox"]

        /// `gmail` (500 recipients a day) or `ses-sandbox` (1 recipient a second, 200 a day).
        public var preset: String?
        /// Sends per minute.
        public var perMinute: Int?
        /// Sends per rolling 24 hours.
        public var daily: Int?

        public init(preset: String? = nil, perMinute: Int? = nil, daily: Int? = nil) {
            self.preset = preset
            self.perMinute = perMinute
            self.daily = daily
        }

        enum CodingKeys: String, CodingKey {
            case preset, daily
            case perMinute = "per_minute"
        }
    }

    /// The platform's id for this credential (pool key, logs). Not secret.
    public var id: String?
    public var host: String
    /// Default: 465 for `tls`, 587 otherwise. Port 25 is refused.
    public var port: Int?
    /// Default: from the port (465 → `tls`, anything else → `starttls`).
    public var security: Security?
    public var username: String?
    public var password: Secret?
    /// OAuth 2 access token (AUTH OAUTHBEARER or XOAUTH2), instead of a password.
    public var accessToken: Secret?
    public var auth: AuthMechanism?
    public var tls: TLSOptions?
    /// EHLO name. Default: the daemon's configured client name.
    public var clientName: String?
    public var limits: Limits?
    /// Use RFC 2920 PIPELINING when the server offers it. Default true; false works around
    /// a server that announces it but mishandles it.
    public var pipelining: Bool?
    /// Use RFC 3030 CHUNKING (BDAT) when the server offers it. Default true.
    public var chunking: Bool?
    /// The most messages one pooled connection carries before it is closed with QUIT, for
    /// a server that treats later messages of a session differently. Default: the
    /// daemon's `pool_max_messages_per_connection`, and 10 when the server's greeting
    /// names Exim (whose default queues every message after a session's tenth).
    public var maxMessagesPerConnection: Int?

    public init(
        id: String? = nil, host: String, port: Int? = nil, security: Security? = nil, username: String? = nil,
        password: Secret? = nil, accessToken: Secret? = nil, auth: AuthMechanism? = nil, tls: TLSOptions? = nil,
        clientName: String? = nil, limits: Limits? = nil, pipelining: Bool? = nil, chunking: Bool? = nil,
        maxMessagesPerConnection: Int? = nil
    ) {
        self.id = id
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.accessToken = accessToken
        self.auth = auth
        self.tls = tls
        self.clientName = clientName
        self.limits = limits
        self.pipelining = pipelining
        self.chunking = chunking
        self.maxMessagesPerConnection = maxMessagesPerConnection
    }

    enum CodingKeys: String, CodingKey {
        case id, host, port, security, username, password, auth, tls, limits, pipelining, chunking
        case accessToken = "access_token"
        case clientName = "client_name"
        case maxMessagesPerConnection = "max_messages_per_connection"
    }
}
