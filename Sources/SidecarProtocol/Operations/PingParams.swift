/// `ping` parameters: an optional string echoed back unchanged, and an optional delay
/// before answering (for testing a client's pipelining, timeouts and the server's
/// backpressure against a real daemon).
public struct PingParams: Sendable, Equatable, Codable {
    /// The longest `delay_ms` the server honours.
    public static let maxDelayMs = 10_000

    public var data: String?
    /// Milliseconds to wait before answering, 0 to ``maxDelayMs``.
    public var delayMs: Int?

    public init(data: String? = nil, delayMs: Int? = nil) {
        self.data = data
        self.delayMs = delayMs
    }

    enum CodingKeys: String, CodingKey {
        case data
        case delayMs = "delay_ms"
    }
}

/// `ping` result.
public struct PingResult: Sendable, Equatable, Codable {
    public var pong: Bool
    public var data: String?

    public init(data: String?) {
        self.pong = true
        self.data = data
    }
}
