import FoundationEssentials

/// Per-credential sending rate and rolling daily quota (see ``RateLimits``), counted in the
/// ``StateDatabase`` so that a restart — even `kill -9` — does not reset them.
///
/// `key` names the credential (e.g. workspace + credential id); it is not a secret.
/// ``acquire(key:limits:now:)`` checks and counts in one `BEGIN IMMEDIATE` transaction, so
/// concurrent requests, in this process or another, never both take the last send.
///
/// ## Failed sends (decision)
/// A send counts when it is acquired. If it then ends `not_sent` (connection, TLS or AUTH
/// failure, or the server refused it), the caller ``refund(_:)``s it: the provider did not
/// accept a message, so its quota was not spent. `sent` and `outcome_unknown` are never
/// refunded: an unknown outcome may have been delivered and may have been counted by the
/// provider, and under-counting is what gets an account locked.
public final class RateLimiter: Sendable {
    private let database: StateDatabase
    /// The credentials whose provider said their quota is spent, by key: read from the
    /// database once, then kept here, so that checking costs a send no database access.
    private let exhausted: QuotaExhaustionMarks

    public init(database: StateDatabase) {
        self.database = database
        let nowMs = Date().millisecondsSince1970
        let stored = try? database.withConnection { connection in
            try connection.query("SELECT key, until_ms, reason FROM rate_exhausted WHERE until_ms > ?", [.integer(nowMs)])
                .map { row in
                    (try row.text(0), QuotaExhaustion(until: Date(millisecondsSince1970: try row.int64(1)), reason: try row.text(2)))
                }
        }
        exhausted = QuotaExhaustionMarks(Dictionary(stored ?? [], uniquingKeysWith: { _, last in last }))
    }

    /// Whether `key`'s provider said its quota is spent, and until when.
    public func exhaustion(key: String, now: Date) -> QuotaExhaustion? {
        exhausted.mark(for: key, now: now)
    }

    /// Records that `key`'s provider said its quota is spent: sends are refused locally until
    /// `until`, also after a restart.
    public func markExhausted(key: String, _ exhaustion: QuotaExhaustion) async throws {
        exhausted.set(exhaustion, for: key)
        _ = try await database.transaction { connection in
            try connection.run(
                "INSERT OR REPLACE INTO rate_exhausted (key, until_ms, reason) VALUES (?, ?, ?)",
                [.text(key), .integer(exhaustion.until.millisecondsSince1970), .text(exhaustion.reason)])
        }
    }

    /// Counts one send of `recipients` recipients for `key` if both limits allow it;
    /// otherwise counts nothing.
    public func acquire(key: String, limits: RateLimits, recipients: Int = 1, now: Date) throws -> RateDecision {
        let nowMs = now.millisecondsSince1970
        return try database.withTransaction { connection in
            try Self.acquire(key: key, limits: limits, count: recipients, nowMs: nowMs, connection)
        }
    }

    /// ``acquire(key:limits:recipients:now:)`` on the database's own thread (the daemon's API).
    public func acquire(key: String, limits: RateLimits, recipients: Int = 1, now: Date) async throws -> RateDecision {
        let nowMs = now.millisecondsSince1970
        return try await database.transaction { connection in
            try Self.acquire(key: key, limits: limits, count: recipients, nowMs: nowMs, connection)
        }
    }

    static func acquire(
        key: String, limits: RateLimits, count: Int, nowMs: Int64, _ connection: SQLiteConnection
    ) throws -> RateDecision {
        let count = max(count, 1)
        let oldestMinute = nowMs / RateLimitPolicy.minuteMs - RateLimitPolicy.windowMinutes
        try connection.run("DELETE FROM rate_minute WHERE key = ? AND minute <= ?", [.text(key), .integer(oldestMinute)])
        let (bucket, counts) = try Self.counters(key: key, after: oldestMinute, connection)

        switch RateLimitPolicy.evaluate(limits: limits, bucket: bucket, minuteCounts: counts, nowMs: nowMs, count: count) {
        case .limit(let retryAfterMs, let reason):
            return .limited(retryAfter: .milliseconds(retryAfterMs), reason: reason)
        case .allow(let newBucket, let minute):
            if let newBucket {
                try connection.run(
                    "INSERT OR REPLACE INTO rate_bucket (key, tokens, updated_ms) VALUES (?, ?, ?)",
                    [.text(key), .real(newBucket.tokens), .integer(newBucket.updatedMs)]
                )
            }
            try connection.run(
                """
                INSERT INTO rate_minute (key, minute, sends) VALUES (?, ?, ?)
                ON CONFLICT (key, minute) DO UPDATE SET sends = sends + excluded.sends
                """,
                [.text(key), .integer(minute), .integer(Int64(count))]
            )
            return .allowed(RateTicket(key: key, minute: minute, capacity: limits.rate.map { Double($0.count) }, count: count))
        }
    }

    /// Gives back a send that did not go out (`not_sent`): one from its minute's count and
    /// one token to the bucket. Refunding twice, or after the send aged out, does nothing more.
    public func refund(_ ticket: RateTicket) throws {
        try database.withTransaction { connection in try Self.refund(ticket, connection) }
    }

    /// ``refund(_:)`` on the database's own thread. Not synced to disk at once: lost to an
    /// OS crash, the send stays counted, which errs on the side the provider cares about.
    public func refund(_ ticket: RateTicket) async throws {
        try await database.transaction(synchronous: .normal) { connection in try Self.refund(ticket, connection) }
    }

    static func refund(_ ticket: RateTicket, _ connection: SQLiteConnection) throws {
        let refunded = try connection.run(
            "UPDATE rate_minute SET sends = max(sends - ?, 0) WHERE key = ? AND minute = ? AND sends > 0",
            [.integer(Int64(ticket.count)), .text(ticket.key), .integer(ticket.minute)]
        )
        if refunded == 1, let capacity = ticket.capacity {
            try connection.run(
                "UPDATE rate_bucket SET tokens = min(tokens + ?, ?) WHERE key = ?",
                [.real(Double(ticket.count)), .real(capacity), .text(ticket.key)]
            )
        }
    }

    /// Deletes counters no limit can still need: minute counts older than 24 hours, and
    /// token buckets untouched for 24 hours (full again for any rate period up to a day).
    /// Returns how many rows were deleted.
    @discardableResult
    public func purgeExpired(now: Date) throws -> Int {
        let nowMs = now.millisecondsSince1970
        return try database.withTransaction { connection in try Self.purge(nowMs: nowMs, connection) }
    }

    /// ``purgeExpired(now:)`` on the database's own thread.
    @discardableResult
    public func purgeExpired(now: Date) async throws -> Int {
        let nowMs = now.millisecondsSince1970
        return try await database.transaction { connection in try Self.purge(nowMs: nowMs, connection) }
    }

    static func purge(nowMs: Int64, _ connection: SQLiteConnection) throws -> Int {
        let oldestMinute = nowMs / RateLimitPolicy.minuteMs - RateLimitPolicy.windowMinutes
        let dayMs = RateLimitPolicy.windowMinutes * RateLimitPolicy.minuteMs
        return try connection.run("DELETE FROM rate_minute WHERE minute <= ?", [.integer(oldestMinute)])
            + connection.run("DELETE FROM rate_bucket WHERE updated_ms <= ?", [.integer(nowMs.saturatingSubtracting(dayMs))])
            + connection.run("DELETE FROM rate_exhausted WHERE until_ms <= ?", [.integer(nowMs)])
    }

    /// Sends counted for `key` in the rolling 24 hours before `now`.
    public func sendsInLastDay(key: String, now: Date) throws -> Int {
        let oldestMinute = now.millisecondsSince1970 / RateLimitPolicy.minuteMs - RateLimitPolicy.windowMinutes
        return try database.withConnection { connection in
            try connection.queryFirst(
                "SELECT coalesce(sum(sends), 0) FROM rate_minute WHERE key = ? AND minute > ?", [.text(key), .integer(oldestMinute)]
            )?.int(0) ?? 0
        }
    }

    /// What is used of `limits` for `key` at `now`; reads only.
    public func usage(key: String, limits: RateLimits, now: Date) async throws -> RateUsage {
        let nowMs = now.millisecondsSince1970
        return try await database.read { connection in try Self.usage(key: key, limits: limits, nowMs: nowMs, connection) }
    }

    static func usage(key: String, limits: RateLimits, nowMs: Int64, _ connection: SQLiteConnection) throws -> RateUsage {
        let oldestMinute = nowMs / RateLimitPolicy.minuteMs - RateLimitPolicy.windowMinutes
        let (bucket, counts) = try counters(key: key, after: oldestMinute, connection)
        return RateLimitPolicy.usage(limits: limits, bucket: bucket, minuteCounts: counts, nowMs: nowMs)
    }

    /// `key`'s token bucket and its per-minute counts after `oldestMinute`, oldest first: what
    /// both a decision and a usage read.
    private static func counters(
        key: String, after oldestMinute: Int64, _ connection: SQLiteConnection
    ) throws -> (bucket: RateLimitPolicy.Bucket?, counts: [(minute: Int64, sends: Int)]) {
        let bucket = try connection.queryFirst("SELECT tokens, updated_ms FROM rate_bucket WHERE key = ?", [.text(key)])
            .map { row in RateLimitPolicy.Bucket(tokens: try row.double(0), updatedMs: try row.int64(1)) }
        let counts = try connection.query(
            "SELECT minute, sends FROM rate_minute WHERE key = ? AND minute > ? ORDER BY minute", [.text(key), .integer(oldestMinute)]
        ).map { row in (minute: try row.int64(0), sends: try row.int(1)) }
        return (bucket, counts)
    }
}
