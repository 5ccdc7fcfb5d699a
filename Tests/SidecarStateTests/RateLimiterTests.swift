import Foundation
import SidecarCore
import Testing

@testable import SidecarState

@Suite("RateLimiter")
struct RateLimiterTests {
    // On a minute boundary, so minute buckets are easy to reason about.
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)  // 30_000_000 minutes exactly

    private func allowed(_ decision: RateDecision) -> RateTicket? {
        if case .allowed(let ticket) = decision { return ticket }
        return nil
    }

    @Test("presets: gmail 500/day, ses-sandbox 200/day at 1/s; custom values")
    func presets() {
        #expect(RateLimits.preset(named: "gmail") == RateLimits(rate: nil, daily: 500))
        #expect(RateLimits.preset(named: "ses-sandbox") == RateLimits(rate: .perSecond(1), daily: 200))
        #expect(RateLimits.preset(named: "nope") == nil)
        let custom = RateLimits(rate: .perMinute(30), daily: 2000)
        #expect(custom.rate?.count == 30)
        #expect(custom.daily == 2000)
    }

    @Test("a spent provider quota holds until its time, across a reopen, and is purged after")
    func quotaExhaustion() async throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        let now = Date()
        let limiter = RateLimiter(database: database)
        #expect(limiter.exhaustion(key: "c", now: now) == nil)
        let spent = QuotaExhaustion(until: now.addingTimeInterval(3600), reason: "454 Throttling failure: Daily message quota exceeded.")
        try await limiter.markExhausted(key: "c", spent)
        #expect(limiter.exhaustion(key: "c", now: now) == spent)
        #expect(limiter.exhaustion(key: "d", now: now) == nil)
        // A new limiter on the same database (a restart) knows it.
        let reopened = RateLimiter(database: database)
        #expect(reopened.exhaustion(key: "c", now: now)?.reason == spent.reason)
        #expect(reopened.exhaustion(key: "c", now: now.addingTimeInterval(3601)) == nil)
        #expect(try await reopened.purgeExpired(now: now.addingTimeInterval(3601)) >= 1)
        #expect(RateLimiter(database: database).exhaustion(key: "c", now: now) == nil)
    }

    @Test("the token bucket allows a burst of N, then refills at N per period")
    func tokenBucket() throws {
        let directory = try TemporaryStateDirectory()
        let limiter = RateLimiter(database: try directory.open())
        let limits = RateLimits(rate: .perMinute(6))
        for _ in 0..<6 { #expect(allowed(try limiter.acquire(key: "c", limits: limits, now: t0)) != nil) }
        let decision = try limiter.acquire(key: "c", limits: limits, now: t0)
        #expect(decision == .limited(retryAfter: .seconds(10), reason: .rate))
        #expect(try limiter.acquire(key: "c", limits: limits, now: t0.addingTimeInterval(9.9)) == .limited(retryAfter: .milliseconds(100), reason: .rate))
        #expect(allowed(try limiter.acquire(key: "c", limits: limits, now: t0.addingTimeInterval(10))) != nil)
        // Another credential has its own bucket.
        #expect(allowed(try limiter.acquire(key: "d", limits: limits, now: t0)) != nil)
    }

    @Test("the daily quota is a rolling 24 hours, with the time until the oldest send ages out")
    func rollingQuota() throws {
        let directory = try TemporaryStateDirectory()
        let limiter = RateLimiter(database: try directory.open())
        let limits = RateLimits(daily: 3)
        #expect(allowed(try limiter.acquire(key: "c", limits: limits, now: t0)) != nil)
        #expect(allowed(try limiter.acquire(key: "c", limits: limits, now: t0.addingTimeInterval(3600))) != nil)
        #expect(allowed(try limiter.acquire(key: "c", limits: limits, now: t0.addingTimeInterval(7200))) != nil)
        // Across UTC midnight and beyond, still limited until the first send is 24 h old.
        let later = t0.addingTimeInterval(20 * 3600)
        #expect(try limiter.acquire(key: "c", limits: limits, now: later) == .limited(retryAfter: .seconds(4 * 3600), reason: .daily))
        #expect(try limiter.sendsInLastDay(key: "c", now: later) == 3)
        #expect(allowed(try limiter.acquire(key: "c", limits: limits, now: t0.addingTimeInterval(24 * 3600))) != nil)
        #expect(try limiter.acquire(key: "c", limits: limits, now: t0.addingTimeInterval(24 * 3600 + 1)) == .limited(retryAfter: .seconds(3599), reason: .daily))
    }

    @Test("gmail: the 501st send in a day is refused")
    func gmail() throws {
        let directory = try TemporaryStateDirectory()
        let limiter = RateLimiter(database: try directory.open())
        for index in 0..<500 {
            #expect(allowed(try limiter.acquire(key: "g", limits: .gmail, now: t0.addingTimeInterval(Double(index)))) != nil)
        }
        guard case .limited(_, .daily) = try limiter.acquire(key: "g", limits: .gmail, now: t0.addingTimeInterval(600)) else {
            throw TestFailure("the 501st send must be limited by the daily quota")
        }
    }

    @Test("when both limits are exhausted the later retry wins; a limited call counts nothing")
    func bothLimits() throws {
        let directory = try TemporaryStateDirectory()
        let limiter = RateLimiter(database: try directory.open())
        let limits = RateLimits(rate: .perMinute(1), daily: 1)
        #expect(allowed(try limiter.acquire(key: "c", limits: limits, now: t0)) != nil)
        #expect(try limiter.acquire(key: "c", limits: limits, now: t0) == .limited(retryAfter: .seconds(86_400), reason: .daily))
        #expect(try limiter.sendsInLastDay(key: "c", now: t0) == 1)
    }

    @Test("a refund gives back the quota and the token; refunding twice does nothing more")
    func refund() throws {
        let directory = try TemporaryStateDirectory()
        let limiter = RateLimiter(database: try directory.open())
        let limits = RateLimits(rate: .perMinute(1), daily: 1)
        let ticket = try #require(allowed(try limiter.acquire(key: "c", limits: limits, now: t0)))
        try limiter.refund(ticket)
        try limiter.refund(ticket)
        #expect(try limiter.sendsInLastDay(key: "c", now: t0) == 0)
        #expect(allowed(try limiter.acquire(key: "c", limits: limits, now: t0)) != nil)
        guard case .limited = try limiter.acquire(key: "c", limits: limits, now: t0) else { throw TestFailure("limited") }
    }

    @Test("purgeExpired drops counters older than a day and nothing newer")
    func purge() throws {
        let directory = try TemporaryStateDirectory()
        let limiter = RateLimiter(database: try directory.open())
        let limits = RateLimits(rate: .perMinute(10), daily: 10)
        _ = try limiter.acquire(key: "old", limits: limits, now: t0)
        _ = try limiter.acquire(key: "new", limits: limits, now: t0.addingTimeInterval(3600))
        #expect(try limiter.purgeExpired(now: t0.addingTimeInterval(3600)) == 0)
        #expect(try limiter.purgeExpired(now: t0.addingTimeInterval(86_400)) == 2)
        #expect(try limiter.sendsInLastDay(key: "new", now: t0.addingTimeInterval(86_400)) == 1)
    }

    @Test("counters survive closing and reopening the database")
    func survivesReopen() throws {
        let directory = try TemporaryStateDirectory()
        let limits = RateLimits(rate: .perMinute(5), daily: 8)
        do {
            let database = try directory.open()
            let limiter = RateLimiter(database: database)
            for _ in 0..<5 { #expect(allowed(try limiter.acquire(key: "c", limits: limits, now: t0)) != nil) }
            database.close()
        }
        let limiter = RateLimiter(database: try directory.open())
        #expect(try limiter.acquire(key: "c", limits: limits, now: t0) == .limited(retryAfter: .seconds(12), reason: .rate))
        for minute in 1...3 {
            #expect(allowed(try limiter.acquire(key: "c", limits: limits, now: t0.addingTimeInterval(Double(minute) * 60))) != nil)
        }
        guard case .limited(_, .daily) = try limiter.acquire(key: "c", limits: limits, now: t0.addingTimeInterval(600)) else {
            throw TestFailure("the quota of 8 must hold across the reopen")
        }
    }

    @Test("concurrent acquires never exceed the limit")
    func concurrent() async throws {
        let directory = try TemporaryStateDirectory()
        let limiter = RateLimiter(database: try directory.open())
        let limits = RateLimits(rate: .perMinute(100), daily: 10)
        let now = t0
        let granted = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    if case .allowed = try? await limiter.acquire(key: "c", limits: limits, now: now) { return true }
                    return false
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(granted == 10)
    }

    @Test("two connections to one file (two processes) share the counters")
    func twoConnections() throws {
        let directory = try TemporaryStateDirectory()
        let first = RateLimiter(database: try directory.open())
        let second = RateLimiter(database: try directory.open())
        let limits = RateLimits(daily: 2)
        #expect(allowed(try first.acquire(key: "c", limits: limits, now: t0)) != nil)
        #expect(allowed(try second.acquire(key: "c", limits: limits, now: t0)) != nil)
        guard case .limited = try first.acquire(key: "c", limits: limits, now: t0) else { throw TestFailure("limited") }
    }
}
