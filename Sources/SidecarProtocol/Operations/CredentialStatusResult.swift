/// `credential_status` result: the health of each stored credential, as this daemon knows
/// it. Never a password, token or secret fingerprint. Times are RFC 3339 UTC strings
/// (``RFC3339Timestamp``).
public struct CredentialStatusResult: Sendable, Equatable, Codable {
    public var credentials: [Credential]

    public init(credentials: [Credential]) {
        self.credentials = credentials
    }

    /// One stored credential.
    public struct Credential: Sendable, Equatable, Codable {
        public var id: String
        public var workspaceID: String
        public var label: String
        public var host: String
        public var port: Int?
        public var username: String?
        /// When a send or verification with it last succeeded, on this daemon since it started.
        public var lastSuccessAt: String?
        /// Its last failed send or verification, on this daemon since it started.
        public var lastError: LastError?
        public var quota: Quota
        public var pool: Pool
        /// An OAuth credential's access token, as the daemon last recorded it.
        public var token: Token?

        public init(
            id: String, workspaceID: String, label: String, host: String, port: Int?, username: String?,
            lastSuccessAt: String? = nil, lastError: LastError? = nil, quota: Quota = Quota(), pool: Pool = Pool(),
            token: Token? = nil
        ) {
            self.id = id
            self.workspaceID = workspaceID
            self.label = label
            self.host = host
            self.port = port
            self.username = username
            self.lastSuccessAt = lastSuccessAt
            self.lastError = lastError
            self.quota = quota
            self.pool = pool
            self.token = token
        }

        enum CodingKeys: String, CodingKey {
            case id, label, host, port, username, quota, pool, token
            case workspaceID = "workspace_id"
            case lastSuccessAt = "last_success_at"
            case lastError = "last_error"
        }
    }

    /// A failure's error code, when it happened, and the error's message.
    public struct LastError: Sendable, Equatable, Codable {
        public var code: String
        public var at: String
        public var message: String?

        public init(code: String, at: String, message: String? = nil) {
            self.code = code
            self.at = at
            self.message = message
        }
    }

    /// The daemon's own limits of the credential, with what is used of them, and a
    /// provider's spent-quota mark.
    public struct Quota: Sendable, Equatable, Codable {
        /// The rate limit (`per_minute`, or a preset's rate), when set: a token bucket of
        /// `limit` recipients refilled over `period_ms`.
        public var rate: Window?
        /// The rolling 24-hour limit (`daily`), when set.
        public var daily: Window?
        /// Until when sends are refused because the provider said the quota is spent.
        public var exhaustedUntil: String?

        public init(rate: Window? = nil, daily: Window? = nil, exhaustedUntil: String? = nil) {
            self.rate = rate
            self.daily = daily
            self.exhaustedUntil = exhaustedUntil
        }

        enum CodingKeys: String, CodingKey {
            case rate, daily
            case exhaustedUntil = "exhausted_until"
        }
    }

    /// One limit: recipients counted against it, the limit, and when all of it is free again.
    public struct Window: Sendable, Equatable, Codable {
        public var used: Int
        public var limit: Int
        /// The limit's period: the rate's, or a day (86 400 000) for the daily quota.
        public var periodMs: Int
        /// When the whole limit is available again (now, when nothing is used).
        public var resetsAt: String

        public init(used: Int, limit: Int, periodMs: Int, resetsAt: String) {
            self.used = used
            self.limit = limit
            self.periodMs = periodMs
            self.resetsAt = resetsAt
        }

        enum CodingKeys: String, CodingKey {
            case used, limit
            case periodMs = "period_ms"
            case resetsAt = "resets_at"
        }
    }

    /// The warm connections of the credential's pools (summed over them: a pool per server
    /// setting and secret), as `stats` counts them per pool.
    public struct Pool: Sendable, Equatable, Codable {
        public var pools: Int
        public var open: Int
        public var idle: Int
        public var leased: Int
        public var waiting: Int
        public var connectionsCreated: Int
        public var reuses: Int
        public var creationFailures: Int
        public var discards: Int
        public var backoffs: Int

        public init(
            pools: Int = 0, open: Int = 0, idle: Int = 0, leased: Int = 0, waiting: Int = 0, connectionsCreated: Int = 0,
            reuses: Int = 0, creationFailures: Int = 0, discards: Int = 0, backoffs: Int = 0
        ) {
            self.pools = pools
            self.open = open
            self.idle = idle
            self.leased = leased
            self.waiting = waiting
            self.connectionsCreated = connectionsCreated
            self.reuses = reuses
            self.creationFailures = creationFailures
            self.discards = discards
            self.backoffs = backoffs
        }

        enum CodingKeys: String, CodingKey {
            case pools, open, idle, leased, waiting, reuses, discards, backoffs
            case connectionsCreated = "connections_created"
            case creationFailures = "creation_failures"
        }
    }

    /// An OAuth credential's token: when it expires, and why its last refresh failed.
    public struct Token: Sendable, Equatable, Codable {
        public var expiresAt: String?
        public var lastRefreshError: String?

        public init(expiresAt: String? = nil, lastRefreshError: String? = nil) {
            self.expiresAt = expiresAt
            self.lastRefreshError = lastRefreshError
        }

        enum CodingKeys: String, CodingKey {
            case expiresAt = "expires_at"
            case lastRefreshError = "last_refresh_error"
        }
    }
}
