import FoundationEssentials
import PostgresNIO
import SidecarCore
import SidecarState

/// Per-credential sending rate and rolling daily quota shared by a fleet of hosts, in
/// PostgreSQL: N hosts together never ask a provider for more than the credential's limit.
/// Same rule as one host (`RateLimitPolicy`: a token bucket for the rate, one-minute
/// buckets over a rolling 24 hours for the quota), same refunds.
///
/// ## Atomicity (decision)
/// An acquire is one transaction under a transaction-level advisory lock on the key
/// (`pg_advisory_xact_lock`), so the sends of one credential are counted one at a time across
/// every host while different credentials never wait for each other; the lock ends with
/// the transaction, also when its connection dies. The counters are read and the policy
/// evaluated inside it, so the decision and the count are one step.
///
/// ## Spent quotas
/// A credential whose provider said its quota is spent is refused without a connection on
/// every host: the mark is written to the database and read back into memory by each
/// host's maintenance loop (every third of the lease), so another host learns of it within
/// seconds, and the check costs a send no round trip.
public final class PostgresRateLimiter: RateLimiting {
    let state: PostgresState
    private let exhausted = QuotaExhaustionMarks()

    public init(state: PostgresState) {
        self.state = state
    }

    private var tables: PostgresTables { state.tables }

    public func acquire(key: String, limits: RateLimits, recipients: Int, now: Date) async throws -> RateDecision {
        let nowMs = now.millisecondsSince1970
        let count = max(recipients, 1)
        let tables = tables
        let logger = state.logger
        return try await state.operation {
            try await self.state.client.withTransaction(logger: logger) { connection in
                try await connection.query(
                    "SELECT pg_advisory_xact_lock(hashtextextended(\(tables.rateMinute + ":" + key), 0))", logger: logger)
                let oldestMinute = nowMs / RateLimitPolicy.minuteMs - RateLimitPolicy.windowMinutes
                try await connection.query(
                    "DELETE FROM \(unescaped: tables.rateMinute) WHERE key = \(key) AND minute <= \(oldestMinute)",
                    logger: logger)
                let (bucket, counts) = try await Self.counters(
                    key: key, after: oldestMinute, tables: tables, connection, logger: logger)
                switch RateLimitPolicy.evaluate(
                    limits: limits, bucket: bucket, minuteCounts: counts, nowMs: nowMs, count: count)
                {
                case .limit(let retryAfterMs, let reason):
                    return RateDecision.limited(retryAfter: .milliseconds(retryAfterMs), reason: reason)
                case .allow(let newBucket, let minute):
                    if let newBucket {
                        try await connection.query(
                            """
                            INSERT INTO \(unescaped: tables.rateBucket) (key, tokens, updated_ms)
                            VALUES (\(key), \(newBucket.tokens), \(newBucket.updatedMs))
                            ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, updated_ms = excluded.updated_ms
                            """, logger: logger)
                    }
                    try await connection.query(
                        """
                        INSERT INTO \(unescaped: tables.rateMinute) (key, minute, sends) VALUES (\(key), \(minute), \(Int32(clamping: count)))
                        ON CONFLICT (key, minute) DO UPDATE SET sends = \(unescaped: tables.rateMinute).sends + excluded.sends
                        """, logger: logger)
                    return RateDecision.allowed(
                        RateTicket(key: key, minute: minute, capacity: limits.rate.map { Double($0.count) }, count: count))
                }
            }
        }
    }

    public func refund(_ ticket: RateTicket) async throws {
        let tables = tables
        let key = ticket.key
        let minute = ticket.minute
        let capacity = ticket.capacity
        let count = Int32(clamping: ticket.count)
        try await state.operation {
            // One statement: a data-modifying WITH runs whether or not the rest reads it.
            try await self.state.fastClient.query(
                """
                WITH refunded AS (
                    UPDATE \(unescaped: tables.rateMinute) SET sends = greatest(sends - \(count), 0)
                    WHERE key = \(key) AND minute = \(minute) AND sends > 0 RETURNING 1
                )
                UPDATE \(unescaped: tables.rateBucket) SET tokens = least(tokens + \(Double(count)), \(capacity ?? 0))
                WHERE key = \(key) AND \(capacity != nil) AND EXISTS (SELECT 1 FROM refunded)
                """, logger: self.state.logger)
            return ()
        }
    }

    public func exhaustion(key: String, now: Date) -> QuotaExhaustion? {
        exhausted.mark(for: key, now: now)
    }

    public func markExhausted(key: String, _ exhaustion: QuotaExhaustion) async throws {
        exhausted.set(exhaustion, for: key)
        let table = tables.rateExhausted
        let until = exhaustion.until.millisecondsSince1970
        let reason = exhaustion.reason
        try await state.operation {
            try await self.state.client.query(
                """
                INSERT INTO \(unescaped: table) (key, until_ms, reason) VALUES (\(key), \(until), \(reason))
                ON CONFLICT (key) DO UPDATE SET until_ms = excluded.until_ms, reason = excluded.reason
                """, logger: self.state.logger)
            return ()
        }
    }

    /// Reads every host's spent-quota marks into memory.
    public func refreshExhaustion(now: Date) async throws {
        let table = tables.rateExhausted
        let nowMs = now.millisecondsSince1970
        let marks = try await state.operation {
            var marks: [String: QuotaExhaustion] = [:]
            for try await (key, until, reason) in try await self.state.fastClient.query(
                "SELECT key, until_ms, reason FROM \(unescaped: table) WHERE until_ms > \(nowMs)", logger: self.state.logger
            ).decode((String, Int64, String).self) {
                marks[key] = QuotaExhaustion(until: Date(millisecondsSince1970: until), reason: reason)
            }
            return marks
        }
        exhausted.replaceAll(with: marks)
    }

    @discardableResult
    public func purgeExpired(now: Date) async throws -> Int {
        let nowMs = now.millisecondsSince1970
        let tables = tables
        let oldestMinute = nowMs / RateLimitPolicy.minuteMs - RateLimitPolicy.windowMinutes
        let dayAgo = nowMs.saturatingSubtracting(RateLimitPolicy.windowMinutes * RateLimitPolicy.minuteMs)
        return try await state.operation {
            var deleted = 0
            for query: PostgresQuery in [
                "DELETE FROM \(unescaped: tables.rateMinute) WHERE minute <= \(oldestMinute) RETURNING 1",
                "DELETE FROM \(unescaped: tables.rateBucket) WHERE updated_ms <= \(dayAgo) RETURNING 1",
                "DELETE FROM \(unescaped: tables.rateExhausted) WHERE until_ms <= \(nowMs) RETURNING 1",
            ] {
                deleted += try await self.state.fastClient.query(query, logger: self.state.logger).collect().count
            }
            return deleted
        }
    }

    public func sendsInLastDay(key: String, now: Date) async throws -> Int {
        let table = tables.rateMinute
        let oldestMinute = now.millisecondsSince1970 / RateLimitPolicy.minuteMs - RateLimitPolicy.windowMinutes
        return try await state.operation {
            let rows = try await self.state.fastClient.query(
                "SELECT coalesce(sum(sends), 0)::bigint FROM \(unescaped: table) WHERE key = \(key) AND minute > \(oldestMinute)",
                logger: self.state.logger
            ).collect()
            return Int(try rows.first?.decode(Int64.self) ?? 0)
        }
    }

    public func usage(key: String, limits: RateLimits, now: Date) async throws -> RateUsage {
        let tables = tables
        let nowMs = now.millisecondsSince1970
        let oldestMinute = nowMs / RateLimitPolicy.minuteMs - RateLimitPolicy.windowMinutes
        let logger = state.logger
        return try await state.operation {
            // Two reads, no lock: a send counted between them shows in one of them only,
            // which a status may.
            let (bucket, counts) = try await self.state.fastClient.withConnection { connection in
                try await Self.counters(key: key, after: oldestMinute, tables: tables, connection, logger: logger)
            }
            return RateLimitPolicy.usage(limits: limits, bucket: bucket, minuteCounts: counts, nowMs: nowMs)
        }
    }

    /// `key`'s token bucket and its per-minute counts after `oldestMinute`, oldest first: what
    /// both a decision and a usage read.
    private static func counters(
        key: String, after oldestMinute: Int64, tables: PostgresTables, _ connection: PostgresConnection, logger: Logger
    ) async throws -> (bucket: RateLimitPolicy.Bucket?, counts: [(minute: Int64, sends: Int)]) {
        let bucket = try await connection.query(
            "SELECT tokens, updated_ms FROM \(unescaped: tables.rateBucket) WHERE key = \(key)", logger: logger
        ).collect().first.map { row in
            let (tokens, updated) = try row.decode((Double, Int64).self)
            return RateLimitPolicy.Bucket(tokens: tokens, updatedMs: updated)
        }
        var counts: [(minute: Int64, sends: Int)] = []
        for try await (minute, sends) in try await connection.query(
            """
            SELECT minute, sends FROM \(unescaped: tables.rateMinute)
            WHERE key = \(key) AND minute > \(oldestMinute) ORDER BY minute
            """, logger: logger
        ).decode((Int64, Int32).self) {
            counts.append((minute, Int(sends)))
        }
        return (bucket, counts)
    }
}
