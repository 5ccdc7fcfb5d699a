import NIOCore

/// Limits and trust for requests to OAuth token endpoints. Daemon configuration.
public struct OAuthTokenClientConfiguration: Sendable, Equatable {
    /// Time limit for each TCP connect attempt. Default 10 s.
    public var connectTimeout: TimeAmount
    /// The longest silence while waiting for the answer. Default 15 s.
    public var idleReadTimeout: TimeAmount
    /// The limit for the whole request, DNS to last byte. Default 30 s.
    public var overallTimeout: TimeAmount
    /// The largest answer read. Default 64 KiB (a token response is a few KiB).
    public var maxResponseBytes: Int
    /// Extra trusted CA certificates (PEM) beside the system trust store: for a private
    /// identity provider, and for tests.
    public var additionalCAPEM: String?
    /// Sent as `User-Agent`.
    public var userAgent: String

    public init(
        connectTimeout: TimeAmount = .seconds(10), idleReadTimeout: TimeAmount = .seconds(15),
        overallTimeout: TimeAmount = .seconds(30), maxResponseBytes: Int = 64 * 1024, additionalCAPEM: String? = nil,
        userAgent: String = "smtp-sidecar"
    ) {
        self.connectTimeout = connectTimeout
        self.idleReadTimeout = idleReadTimeout
        self.overallTimeout = overallTimeout
        self.maxResponseBytes = maxResponseBytes
        self.additionalCAPEM = additionalCAPEM
        self.userAgent = userAgent
    }
}
