import FoundationEssentials

/// Where a credential's sending rate and rolling daily quota are counted: the state
/// database of one host (``RateLimiter``, SQLite) or a database a fleet of hosts shares
/// (`PostgresRateLimiter`), so that N hosts together never ask a provider for more than
/// the credential's limit. Same unit and semantics in both (``RateLimitPolicy``): a token
/// bucket for the rate, one-minute buckets over a rolling 24 hours for the quota, a send
/// counted when acquired and refunded when it did not go out.
public protocol RateLimiting: Sendable {
    /// Counts one send of `recipients` recipients for `key` if both limits allow it (the
    /// providers count their limits in recipients); otherwise counts nothing.
    func acquire(key: String, limits: RateLimits, recipients: Int, now: Date) async throws -> RateDecision
    /// Gives back a send that did not go out (its recipients).
    func refund(_ ticket: RateTicket) async throws
    /// Whether `key`'s provider said its quota is spent, and until when (from memory).
    func exhaustion(key: String, now: Date) -> QuotaExhaustion?
    /// Records that `key`'s provider said its quota is spent, until `exhaustion.until`.
    func markExhausted(key: String, _ exhaustion: QuotaExhaustion) async throws
    /// Deletes counters no limit can still need. Returns how many rows.
    @discardableResult
    func purgeExpired(now: Date) async throws -> Int
    /// Sends counted for `key` in the rolling 24 hours before `now`.
    func sendsInLastDay(key: String, now: Date) async throws -> Int
    /// What is used of `limits` for `key` at `now`, read without counting, refunding or
    /// deleting anything (for `credential_status`).
    func usage(key: String, limits: RateLimits, now: Date) async throws -> RateUsage
}

extension RateLimiter: RateLimiting {}
