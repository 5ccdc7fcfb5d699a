import FoundationEssentials
import Logging
import SidecarState
import SidecarStatePostgres
import Synchronization

/// `state_fail_open = true` for rate limits: counted on the shared database while it
/// answers, on this host's own while it does not (then each host holds the limit alone, so
/// a fleet of N may send up to N times it during the outage; logged at warning).
final class FailOpenRateLimiter: RateLimiting {
    let shared: any RateLimiting
    let local: RateLimiter
    let logger: Logger
    private let localTickets = Mutex<Set<RateTicket>>([])

    init(shared: any RateLimiting, local: RateLimiter, logger: Logger) {
        self.shared = shared
        self.local = local
        self.logger = logger
    }

    func acquire(key: String, limits: RateLimits, recipients: Int, now: Date) async throws -> RateDecision {
        do {
            return try await shared.acquire(key: key, limits: limits, recipients: recipients, now: now)
        } catch let error as PostgresStateError where error.isUnavailable {
            logger.warning(
                "The shared state database is unavailable; counting this send's rate limit on this host only (state_fail_open)",
                metadata: ["error": "\(error.detail)"])
            let decision: RateDecision = try await local.acquire(key: key, limits: limits, recipients: recipients, now: now)
            if case .allowed(let ticket) = decision { _ = localTickets.withLock { $0.insert(ticket) } }
            return decision
        }
    }

    func refund(_ ticket: RateTicket) async throws {
        if localTickets.withLock({ $0.remove(ticket) }) != nil {
            try await local.refund(ticket)
        } else {
            try await shared.refund(ticket)
        }
    }

    func exhaustion(key: String, now: Date) -> QuotaExhaustion? {
        shared.exhaustion(key: key, now: now) ?? local.exhaustion(key: key, now: now)
    }

    func markExhausted(key: String, _ exhaustion: QuotaExhaustion) async throws {
        do {
            try await shared.markExhausted(key: key, exhaustion)
        } catch let error as PostgresStateError where error.isUnavailable {
            try await local.markExhausted(key: key, exhaustion)
        }
    }

    @discardableResult
    func purgeExpired(now: Date) async throws -> Int {
        // A ticket is refunded, if at all, while its send runs: an hour covers any send.
        let hourAgo = now.millisecondsSince1970 / 60_000 - 60
        localTickets.withLock { $0 = $0.filter { $0.minute > hourAgo } }
        let purged: Int = try await local.purgeExpired(now: now)
        return try await purged + shared.purgeExpired(now: now)
    }

    func sendsInLastDay(key: String, now: Date) async throws -> Int {
        try await shared.sendsInLastDay(key: key, now: now)
    }

    /// The shared database's figures; this host's own while it does not answer (what sends
    /// are counted against then).
    func usage(key: String, limits: RateLimits, now: Date) async throws -> RateUsage {
        do {
            return try await shared.usage(key: key, limits: limits, now: now)
        } catch let error as PostgresStateError where error.isUnavailable {
            return try await local.usage(key: key, limits: limits, now: now)
        }
    }
}
