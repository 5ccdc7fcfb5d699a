import Foundation
import SidecarCore
import Testing

@testable import SidecarState

/// Issue 21 item 0: no window, time or limit, however large, may trap. On d967eb0 each of
/// these stopped the test process with an arithmetic overflow.
@Suite("State arithmetic saturates")
struct StateArithmeticTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let sent = #"{"outcome":"sent"}"#

    @Test("a dedup window of 2^62 s (and 2^63/1000 s) proceeds, records and replays", arguments: [
        Int64(1) << 62, 9_223_372_036_854_775, Int64.max,
    ])
    func hugeDedupWindow(seconds: Int64) throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        let store = DedupStore(database: database)
        guard case .proceed(let ticket) = try store.begin(key: "k", window: .seconds(seconds), now: t0) else {
            throw TestFailure("the first send must proceed")
        }
        #expect(try store.complete(ticket, resultJSON: sent, countsAsSent: true))
        let expires = try database.withConnection { try $0.queryFirst("SELECT expires_ms FROM dedup")?.int64(0) }
        #expect(expires == Int64.max)
        #expect(try store.begin(key: "k", window: .seconds(seconds), now: t0.addingTimeInterval(1e9)) == .duplicate(resultJSON: sent))
        #expect(try store.purgeExpired(now: t0) == 0)
    }

    @Test("a huge stale limit, a far-future and a NaN clock do not trap")
    func hugeStaleLimitAndClock() throws {
        let directory = try TemporaryStateDirectory()
        let store = DedupStore(database: try directory.open(), staleAfter: .seconds(Int64.max))
        let far = Date(timeIntervalSince1970: 1e300)
        guard case .proceed = try store.begin(key: "k", window: .seconds(Int64.max), now: far) else {
            throw TestFailure("proceed")
        }
        #expect(try store.begin(key: "k", window: .seconds(1), now: Date(timeIntervalSince1970: -1e300)) == .inProgress)
        #expect(try store.purgeExpired(now: far) == 0)
        #expect(try store.purgeExpired(now: Date(timeIntervalSince1970: .nan)) == 0)
    }

    @Test("a rate over a period of 2^62 s, and extreme daily quotas, decide without trapping")
    func hugeRateLimits() throws {
        let directory = try TemporaryStateDirectory()
        let limiter = RateLimiter(database: try directory.open())
        let slow = RateLimits(rate: .init(count: 1, per: .seconds(Int64(1) << 62)))
        guard case .allowed = try limiter.acquire(key: "slow", limits: slow, now: t0) else { throw TestFailure("first") }
        guard case .limited(let retryAfter, .rate) = try limiter.acquire(key: "slow", limits: slow, now: t0) else {
            throw TestFailure("second must be limited")
        }
        #expect(retryAfter > .zero)
        guard case .limited(let again, .rate) = try limiter.acquire(key: "slow", limits: slow, now: t0) else {
            throw TestFailure("third must be limited")
        }
        #expect(again.wholeMilliseconds > 0)

        let negative = RateLimits(daily: Int.min)
        guard case .limited(_, .daily) = try limiter.acquire(key: "neg", limits: negative, now: t0) else {
            throw TestFailure("a quota below zero allows nothing")
        }
        let huge = RateLimits(rate: .init(count: Int.max, per: .seconds(Int64.max)), daily: Int.max)
        guard case .allowed = try limiter.acquire(key: "huge", limits: huge, now: Date(timeIntervalSince1970: 1e300)) else {
            throw TestFailure("huge limits allow")
        }
        #expect(try limiter.purgeExpired(now: Date(timeIntervalSince1970: -1e300)) >= 0)
    }

    @Test("the saturating helpers clamp at both ends")
    func helpers() {
        #expect(Int64.max.saturatingAdding(1) == .max)
        #expect(Int64.min.saturatingAdding(-1) == .min)
        #expect(Int64.min.saturatingSubtracting(1) == .min)
        #expect(Int64.max.saturatingSubtracting(-1) == .max)
        #expect(Int64.max.saturatingMultiplied(by: 2) == .max)
        #expect(Int64.min.saturatingMultiplied(by: 2) == .min)
        #expect(Int64(-3).saturatingMultiplied(by: Int64.max) == .min)
        #expect(Int64(clampingDouble: 1e30) == .max)
        #expect(Int64(clampingDouble: -1e30) == .min)
        #expect(Int64(clampingDouble: .nan) == 0)
        #expect(Duration.seconds(Int64(1) << 62).wholeMilliseconds == .max)
        #expect(Duration.seconds(-(Int64(1) << 62)).wholeMilliseconds == .min)
        #expect(Duration.milliseconds(1500).wholeMilliseconds == 1500)
        #expect(Duration.milliseconds(-1500).wholeMilliseconds == -1500)
    }
}
