/// `hello` result: the negotiated version, the server's limits and operations.
public struct HelloResult: Sendable, Equatable, Codable {
    public var version: Int
    public var server: String
    public var serverVersion: String
    public var operations: [String]
    public var limits: Limits

    public struct Limits: Sendable, Equatable, Codable {
        /// Largest frame payload the server accepts, in bytes.
        public var maxFrameBytes: Int
        /// Requests the server processes concurrently per connection; further frames wait
        /// unread in the socket until one completes.
        public var maxInFlight: Int
        /// A connection with no request in flight for this long is closed.
        public var idleTimeoutMs: Int

        public init(maxFrameBytes: Int, maxInFlight: Int, idleTimeoutMs: Int) {
            self.maxFrameBytes = maxFrameBytes
            self.maxInFlight = maxInFlight
            self.idleTimeoutMs = idleTimeoutMs
        }

        enum CodingKeys: String, CodingKey {
            case maxFrameBytes = "max_frame_bytes"
            case maxInFlight = "max_in_flight"
            case idleTimeoutMs = "idle_timeout_ms"
        }
    }

    public init(version: Int, server: String, serverVersion: String, operations: [String], limits: Limits) {
        self.version = version
        self.server = server
        self.serverVersion = serverVersion
        self.operations = operations
        self.limits = limits
    }

    enum CodingKeys: String, CodingKey {
        case version, server, operations, limits
        case serverVersion = "server_version"
    }
}
