import Foundation
import SidecarState
import Testing

/// What every rate-limit backend promises (``RateLimiting``), run against this host's
/// SQLite database and a real PostgreSQL alike.
@Suite("Rate limit contract")
struct RateLimitContractTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("the daily quota allows exactly its count, then says when to retry", arguments: StateBackend.allCases)
    func daily(_ backend: StateBackend) async throws {
        try await backend.withStores { stores in
            let limiter = stores.makeLimiter()
            let limits = RateLimits(daily: 3)
            for index in 0..<3 {
                guard case .allowed = try await limiter.acquire(key: "c", limits: limits, recipients: 1, now: t0.addingTimeInterval(Double(index)))
                else { throw TestFailure("send \(index) refused") }
            }
            guard case .limited(let retryAfter, .daily) = try await limiter.acquire(key: "c", limits: limits, recipients: 1, now: t0.addingTimeInterval(10))
            else { throw TestFailure("the fourth send was allowed") }
            #expect(retryAfter > .seconds(86_000) && retryAfter <= .seconds(86_400))
            #expect(try await limiter.sendsInLastDay(key: "c", now: t0.addingTimeInterval(10)) == 3)
            // Another credential is not affected; a day later the first is free again.
            guard case .allowed = try await limiter.acquire(key: "other", limits: limits, recipients: 1, now: t0) else { throw TestFailure("other") }
            guard case .allowed = try await limiter.acquire(key: "c", limits: limits, recipients: 1, now: t0.addingTimeInterval(86_461)) else {
                throw TestFailure("a day later")
            }
        }
    }

    @Test("a refunded send does not count, once", arguments: StateBackend.allCases)
    func refund(_ backend: StateBackend) async throws {
        try await backend.withStores { stores in
            let limiter = stores.makeLimiter()
            let limits = RateLimits(rate: .perMinute(1), daily: 1)
            guard case .allowed(let ticket) = try await limiter.acquire(key: "c", limits: limits, recipients: 1, now: t0) else {
                throw TestFailure("first")
            }
            guard case .limited = try await limiter.acquire(key: "c", limits: limits, recipients: 1, now: t0) else { throw TestFailure("second") }
            try await limiter.refund(ticket)
            try await limiter.refund(ticket)
            #expect(try await limiter.sendsInLastDay(key: "c", now: t0) == 0)
            guard case .allowed = try await limiter.acquire(key: "c", limits: limits, recipients: 1, now: t0) else { throw TestFailure("after refund") }
            guard case .limited = try await limiter.acquire(key: "c", limits: limits, recipients: 1, now: t0) else { throw TestFailure("refunded twice") }
        }
    }

    @Test("usage reads what is counted, recipients included, and counts nothing", arguments: StateBackend.allCases)
    func usage(_ backend: StateBackend) async throws {
        try await backend.withStores { stores in
            let limiter = stores.makeLimiter()
            let limits = RateLimits(rate: .perMinute(10), daily: 100)
            let empty = try await limiter.usage(key: "c", limits: limits, now: t0)
            #expect(empty.rate == RateUsage.Window(used: 0, limit: 10, period: .seconds(60), resetsAt: t0))
            #expect(empty.daily == RateUsage.Window(used: 0, limit: 100, period: .seconds(86_400), resetsAt: t0))
            guard case .allowed = try await limiter.acquire(key: "c", limits: limits, recipients: 3, now: t0) else {
                throw TestFailure("first")
            }
            guard case .allowed = try await limiter.acquire(key: "other", limits: limits, recipients: 5, now: t0) else {
                throw TestFailure("other")
            }
            let later = t0.addingTimeInterval(6)  // one token back
            for _ in 0..<2 {
                let used = try await limiter.usage(key: "c", limits: limits, now: later)
                #expect(used.rate?.used == 2)
                #expect(used.rate?.resetsAt == t0.addingTimeInterval(18))
                #expect(used.daily?.used == 3)
                #expect(used.daily?.resetsAt == t0.addingTimeInterval(86_400))
            }
            // Reading took nothing: the rest of the burst is still there.
            guard case .allowed = try await limiter.acquire(key: "c", limits: limits, recipients: 8, now: later) else {
                throw TestFailure("the burst's rest")
            }
            #expect(try await limiter.usage(key: "c", limits: RateLimits(daily: 100), now: later).rate == nil)
            #expect(try await limiter.usage(key: "c", limits: limits, now: t0.addingTimeInterval(86_460)).daily?.used == 0)
        }
    }

    @Test("the rate is a token bucket: a burst of its count, then one per period's share", arguments: StateBackend.allCases)
    func rate(_ backend: StateBackend) async throws {
        try await backend.withStores { stores in
            let limiter = stores.makeLimiter()
            let limits = RateLimits(rate: .perMinute(2))
            for _ in 0..<2 {
                guard case .allowed = try await limiter.acquire(key: "c", limits: limits, recipients: 1, now: t0) else { throw TestFailure("burst") }
            }
            guard case .limited(let retryAfter, .rate) = try await limiter.acquire(key: "c", limits: limits, recipients: 1, now: t0) else {
                throw TestFailure("third")
            }
            #expect(retryAfter == .seconds(30))
            guard case .allowed = try await limiter.acquire(key: "c", limits: limits, recipients: 1, now: t0.addingTimeInterval(30)) else {
                throw TestFailure("refilled")
            }
        }
    }

    @Test("concurrent sends, from two processes, never take more than the quota", arguments: StateBackend.allCases)
    func concurrent(_ backend: StateBackend) async throws {
        try await backend.withStores { stores in
            let limiters = [stores.makeLimiter(), stores.makeLimiter()]
            let limits = RateLimits(daily: 10)
            let allowed = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<30 {
                    let limiter = limiters[index % 2]
                    group.addTask {
                        if case .allowed = try await limiter.acquire(key: "shared", limits: limits, recipients: 1, now: self.t0) { return true }
                        return false
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(allowed == 10)
            #expect(try await limiters[0].sendsInLastDay(key: "shared", now: t0) == 10)
        }
    }

    @Test("a spent quota is known to every process, and expires", arguments: StateBackend.allCases)
    func exhaustion(_ backend: StateBackend) async throws {
        try await backend.withStores { stores in
            let now = Date()
            let limiter = stores.makeLimiter()
            try await limiter.markExhausted(key: "c", QuotaExhaustion(until: now.addingTimeInterval(3600), reason: "550 5.4.5"))
            #expect(limiter.exhaustion(key: "c", now: now)?.reason == "550 5.4.5")
            #expect(limiter.exhaustion(key: "other", now: now) == nil)
            // A process started later (or another host, once it refreshed) knows it too.
            let other = stores.makeLimiter()
            try await stores.refresh(other)
            #expect(other.exhaustion(key: "c", now: now)?.reason == "550 5.4.5")
            #expect(other.exhaustion(key: "c", now: now.addingTimeInterval(3601)) == nil)
        }
    }

    @Test("purging deletes counters no limit can still need", arguments: StateBackend.allCases)
    func purge(_ backend: StateBackend) async throws {
        try await backend.withStores { stores in
            let limiter = stores.makeLimiter()
            guard case .allowed = try await limiter.acquire(key: "c", limits: RateLimits(rate: .perMinute(5), daily: 5), recipients: 1, now: t0) else {
                throw TestFailure("first")
            }
            #expect(try await limiter.purgeExpired(now: t0) == 0)
            #expect(try await limiter.purgeExpired(now: t0.addingTimeInterval(2 * 86_400)) == 2)
        }
    }

    @Test("limits count recipients, as the providers do, and a refund gives them all back", arguments: StateBackend.allCases)
    func recipients(_ backend: StateBackend) async throws {
        try await backend.withStores { stores in
            let limiter = stores.makeLimiter()
            let limits = RateLimits(rate: .perMinute(10), daily: 5)
            guard case .allowed(let ticket) = try await limiter.acquire(key: "c", limits: limits, recipients: 3, now: t0) else {
                throw TestFailure("three recipients")
            }
            #expect(try await limiter.sendsInLastDay(key: "c", now: t0) == 3)
            // Three more would make six: over the daily five.
            guard case .limited(_, .daily) = try await limiter.acquire(key: "c", limits: limits, recipients: 3, now: t0) else {
                throw TestFailure("six of five")
            }
            guard case .allowed = try await limiter.acquire(key: "c", limits: limits, recipients: 2, now: t0) else {
                throw TestFailure("five of five")
            }
            try await limiter.refund(ticket)
            #expect(try await limiter.sendsInLastDay(key: "c", now: t0) == 2)
            guard case .allowed = try await limiter.acquire(key: "c", limits: limits, recipients: 3, now: t0) else {
                throw TestFailure("after the refund")
            }
        }
    }

    @Test("a send with more recipients than the rate's burst goes when the bucket is full", arguments: StateBackend.allCases)
    func largerThanTheBurst(_ backend: StateBackend) async throws {
        try await backend.withStores { stores in
            let limiter = stores.makeLimiter()
            let limits = RateLimits(rate: .perMinute(4))
            guard case .allowed = try await limiter.acquire(key: "c", limits: limits, recipients: 6, now: t0) else {
                throw TestFailure("a full bucket lets it go")
            }
            // The bucket is in debt by two: the next recipient waits for three tokens' refill.
            guard case .limited(let retryAfter, .rate) = try await limiter.acquire(key: "c", limits: limits, recipients: 1, now: t0)
            else { throw TestFailure("in debt") }
            #expect(retryAfter == .seconds(45))
        }
    }
}
