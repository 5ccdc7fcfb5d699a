/// `stats` result: a snapshot of the daemon's counters.
public struct StatsResult: Sendable, Equatable, Codable {
    public var uptimeMs: Int
    public var connections: Connections
    public var requests: Requests
    /// SMTP connection pools, by a label that names workspace, credential id and server
    /// (never a secret). Absent when pooling is off.
    public var pools: [Pool]?
    /// Where duplicate-suppression records and rate counters are kept, and whether that
    /// store answers. Absent from a daemon that keeps no state.
    public var state: StateStore?

    /// The state store's backend and health.
    public struct StateStore: Sendable, Equatable, Codable {
        /// `sqlite` (this host) or `postgres` (shared by a fleet).
        public var backend: String
        /// Whether the last operation reached it (always true for `sqlite`).
        public var available: Bool
        /// The shared database's schema version, once checked.
        public var schemaVersion: Int?
        /// Why it is unavailable, while it is.
        public var lastError: String?

        public init(backend: String, available: Bool, schemaVersion: Int? = nil, lastError: String? = nil) {
            self.backend = backend
            self.available = available
            self.schemaVersion = schemaVersion
            self.lastError = lastError
        }

        enum CodingKeys: String, CodingKey {
            case backend, available
            case schemaVersion = "schema_version"
            case lastError = "last_error"
        }
    }

    /// One pool's counters.
    public struct Pool: Sendable, Equatable, Codable {
        public var label: String
        public var open: Int
        public var idle: Int
        public var leased: Int
        public var waiting: Int
        public var connectionsCreated: Int
        public var reuses: Int
        public var tlsHandshakes: Int
        public var creationFailures: Int
        public var discards: Int
        public var backoffs: Int
        /// Failed sends over this pool by error code.
        public var failuresByCode: [String: Int]

        public init(
            label: String, open: Int, idle: Int, leased: Int, waiting: Int, connectionsCreated: Int, reuses: Int,
            tlsHandshakes: Int, creationFailures: Int, discards: Int, backoffs: Int, failuresByCode: [String: Int]
        ) {
            self.label = label
            self.open = open
            self.idle = idle
            self.leased = leased
            self.waiting = waiting
            self.connectionsCreated = connectionsCreated
            self.reuses = reuses
            self.tlsHandshakes = tlsHandshakes
            self.creationFailures = creationFailures
            self.discards = discards
            self.backoffs = backoffs
            self.failuresByCode = failuresByCode
        }

        enum CodingKeys: String, CodingKey {
            case label, open, idle, leased, waiting, reuses, discards, backoffs
            case connectionsCreated = "connections_created"
            case tlsHandshakes = "tls_handshakes"
            case creationFailures = "creation_failures"
            case failuresByCode = "failures_by_code"
        }
    }

    public struct Connections: Sendable, Equatable, Codable {
        /// Client connections open now.
        public var open: Int
        /// Connections accepted since start (including refused ones).
        public var accepted: Int
        /// Connections refused: peer not allowed, or too many connections.
        public var refused: Int

        public init(open: Int, accepted: Int, refused: Int) {
            self.open = open
            self.accepted = accepted
            self.refused = refused
        }
    }

    public struct Requests: Sendable, Equatable, Codable {
        /// Requests being processed now, over all connections.
        public var inFlight: Int
        /// Requests answered since start.
        public var total: Int
        /// Answered requests by result: `"ok"` or the error code.
        public var byResult: [String: Int]
        /// Answered requests by operation (`"unknown"` when the frame named none).
        public var byOperation: [String: Int]

        public init(inFlight: Int, total: Int, byResult: [String: Int], byOperation: [String: Int]) {
            self.inFlight = inFlight
            self.total = total
            self.byResult = byResult
            self.byOperation = byOperation
        }

        enum CodingKeys: String, CodingKey {
            case inFlight = "in_flight"
            case total
            case byResult = "by_result"
            case byOperation = "by_operation"
        }
    }

    public init(uptimeMs: Int, connections: Connections, requests: Requests) {
        self.uptimeMs = uptimeMs
        self.connections = connections
        self.requests = requests
    }

    enum CodingKeys: String, CodingKey {
        case uptimeMs = "uptime_ms"
        case connections, requests, pools, state
    }
}
