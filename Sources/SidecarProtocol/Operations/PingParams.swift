/// `ping` parameters: an optional string echoed back unchanged.
public struct PingParams: Sendable, Equatable, Codable {
    public var data: String?

    public init(data: String? = nil) {
        self.data = data
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
