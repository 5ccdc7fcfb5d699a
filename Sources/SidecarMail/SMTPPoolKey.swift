import SidecarCore
import SidecarSMTP

/// What makes two sends able to share a connection: the same workspace, credential, secret
/// (by keyed fingerprint, never the secret itself), server and TLS settings. A changed
/// password gives a new key, so a new pool; the old one drains by idle expiry.
///
/// The hash is computed once, in `init`: the pool looks a key up several times per send,
/// and the TLS settings can hold kilobytes of CA certificates.
struct SMTPPoolKey: Hashable, Sendable {
    var route: TransportRoute
    var host: String
    var port: Int
    var security: SMTPSecurityMode
    var tls: SMTPTLSSettings
    var clientName: String
    var username: String?
    var mechanism: SMTPAuthMechanism?
    var secret: SecretFingerprint?
    /// A stored OAuth credential's identity, not its token: a refreshed token does not
    /// make a new pool.
    var oauth: OAuthCredentialKey?
    /// A connection's state machine is set up with these; sends asking otherwise need
    /// their own connections.
    var extensions: SMTPExtensionUse
    /// Retirement follows it, so connections with another limit are another pool's.
    var maximumMessagesPerSession: Int?
    private var precomputedHash = 0

    init(
        configuration: SMTPConfiguration, route: TransportRoute, fingerprintKey: SecretFingerprint.Key,
        oauth source: OAuthTokenSource? = nil
    ) {
        self.route = route
        host = configuration.host.lowercased()
        port = configuration.port
        security = configuration.resolvedSecurity
        tls = configuration.tls
        clientName = configuration.clientName
        username = configuration.credentials?.username
        mechanism = configuration.credentials?.mechanism
        extensions = configuration.extensions
        maximumMessagesPerSession = configuration.maximumMessagesPerSession
        switch configuration.credentials?.authenticator {
        case .password(let secret)?, .oauth2Token(let secret)?:
            self.secret = SecretFingerprint(secret, key: fingerprintKey)
        case nil:
            self.secret = nil
        }
        if let source {
            username = source.username
            mechanism = source.mechanism
            oauth = source.key
        }
        var hasher = Hasher()
        hasher.combine(route)
        hasher.combine(host)
        hasher.combine(port)
        hasher.combine(security)
        hasher.combine(tls)
        hasher.combine(clientName)
        hasher.combine(username)
        hasher.combine(mechanism)
        hasher.combine(secret)
        hasher.combine(oauth)
        hasher.combine(extensions)
        hasher.combine(maximumMessagesPerSession)
        precomputedHash = hasher.finalize()
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(precomputedHash)
    }

    /// A label for stats and logs; nothing secret.
    var label: String {
        "\(route.workspaceID)/\(route.credentialID.isEmpty ? "inline" : route.credentialID)/\(host):\(port)"
    }
}
