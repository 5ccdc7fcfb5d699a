import NIOCore

/// Everything needed to open an SMTP connection. Defaults are documented per field.
public struct SMTPConfiguration: Sendable, CustomStringConvertible {
    /// The server's host name or IP address.
    public var host: String
    /// Default 587.
    public var port: Int
    /// nil: chosen from the port by ``SMTPSecurityMode/resolved(_:port:)`` (465 implicit
    /// TLS, else STARTTLS).
    public var security: SMTPSecurityMode?
    public var tls: SMTPTLSSettings
    /// nil: no AUTH.
    public var credentials: SMTPCredentials?
    /// The EHLO/HELO name. Default `[127.0.0.1]` (an address literal is always valid).
    public var clientName: String
    public var timeouts: SMTPTimeouts
    /// Addresses to connect to, in order, instead of resolving ``host``: the seam for a
    /// caller that resolves and vets addresses itself (SSRF guard, DNS pinning). Empty:
    /// `host` is resolved by NIO. TLS still verifies the certificate against the host name.
    public var addresses: [SocketAddress]
    /// Allow AUTH on a connection without TLS (security mode `none`). Default false: the
    /// client refuses rather than send a password in plaintext.
    public var allowsPlaintextAuthentication: Bool
    /// Extensions the client may use when offered. Default: all.
    public var extensions: SMTPExtensionUse
    /// A message of known size up to this many bytes is composed in memory before its
    /// transaction starts, so the commands and the whole message leave in one write (one
    /// round trip with PIPELINING and CHUNKING); a larger one is streamed. Default 256 KiB.
    public var maximumInlineMessageSize: Int
    /// The most messages (transactions) one session should carry, for a server that
    /// treats later messages of a session differently (Exim queues each one after its
    /// tenth by default instead of delivering it). The client does not enforce it: the
    /// pool lending the connection retires it once ``SMTPConnection/transactionsStarted``
    /// reaches it. nil: no limit of the credential's own.
    public var maximumMessagesPerSession: Int?
    /// When the credentials stop being valid (an OAuth access token's expiry). Like
    /// ``maximumMessagesPerSession``, not the client's concern: the pool lending the
    /// connection retires it then. nil: they do not expire.
    public var credentialsValidUntil: ContinuousClock.Instant?
    /// Limits against hostile servers.
    public var maximumReplyLineLength: Int
    public var maximumReplyLines: Int

    public init(
        host: String,
        port: Int = 587,
        security: SMTPSecurityMode? = nil,
        tls: SMTPTLSSettings = SMTPTLSSettings(),
        credentials: SMTPCredentials? = nil,
        clientName: String = SMTPConfiguration.defaultClientName,
        timeouts: SMTPTimeouts = .default,
        addresses: [SocketAddress] = [],
        allowsPlaintextAuthentication: Bool = false,
        extensions: SMTPExtensionUse = .all,
        maximumInlineMessageSize: Int = 256 * 1024,
        maximumMessagesPerSession: Int? = nil,
        maximumReplyLineLength: Int = 4096,
        maximumReplyLines: Int = 128
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.tls = tls
        self.credentials = credentials
        self.clientName = clientName
        self.timeouts = timeouts
        self.addresses = addresses
        self.allowsPlaintextAuthentication = allowsPlaintextAuthentication
        self.extensions = extensions
        self.maximumInlineMessageSize = maximumInlineMessageSize
        self.maximumMessagesPerSession = maximumMessagesPerSession
        self.maximumReplyLineLength = maximumReplyLineLength
        self.maximumReplyLines = maximumReplyLines
    }

    public static let defaultClientName = "[127.0.0.1]"

    /// The security mode in effect.
    public var resolvedSecurity: SMTPSecurityMode {
        SMTPSecurityMode.resolved(security, port: port)
    }

    /// The name for SNI and certificate verification.
    public var tlsServerName: String { tls.serverName ?? host }

    public var description: String {
        "SMTPConfiguration(\(host):\(port), security: \(resolvedSecurity.rawValue), "
            + "credentials: \(credentials.map { String(describing: $0) } ?? "none"), client name: \(clientName))"
    }
}
