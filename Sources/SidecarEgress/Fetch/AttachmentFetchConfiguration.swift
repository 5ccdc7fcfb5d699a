import NIOCore

/// Limits and trust for URL attachment fetches. Daemon configuration, not per request.
public struct AttachmentFetchConfiguration: Sendable, Equatable {
    /// The largest body accepted, checked against Content-Length before reading and while
    /// streaming. Default 25 MB (the composer's attachment limit).
    public var maxBytes: Int
    /// Time limit for each TCP connect attempt (one per resolved address). Default 10 s.
    public var connectTimeout: TimeAmount
    /// The longest silence while waiting for the response or its body. Default 30 s.
    public var idleReadTimeout: TimeAmount
    /// The limit for the whole fetch, DNS to last byte. Default 120 s.
    public var overallTimeout: TimeAmount
    /// Extra trusted CA certificates (PEM) in addition to the system trust store: for a
    /// private CA, and for tests.
    public var additionalCAPEM: String?
    /// Sent as `User-Agent`.
    public var userAgent: String
    /// Where the body is spooled. The file is created with `mkstemp` (mode 0600, O_EXCL) and
    /// unlinked at once, so it has no name while it is used and its space is freed when
    /// the attachment is released. Default `/tmp`; a private directory is better.
    public var temporaryDirectory: String

    public init(
        maxBytes: Int = 25_000_000,
        connectTimeout: TimeAmount = .seconds(10),
        idleReadTimeout: TimeAmount = .seconds(30),
        overallTimeout: TimeAmount = .seconds(120),
        additionalCAPEM: String? = nil,
        userAgent: String = "smtp-sidecar",
        temporaryDirectory: String = "/tmp"
    ) {
        self.maxBytes = maxBytes
        self.connectTimeout = connectTimeout
        self.idleReadTimeout = idleReadTimeout
        self.overallTimeout = overallTimeout
        self.additionalCAPEM = additionalCAPEM
        self.userAgent = userAgent
        self.temporaryDirectory = temporaryDirectory
    }
}
