import Foundation
import Testing

@testable import SidecarState

/// ``RateLimitPolicy/usage(limits:bucket:minuteCounts:nowMs:)``: what a status shows of a
/// credential's limits, by the rule that decides its sends.
@Suite struct RateUsageTests {
    let nowMs: Int64 = 1_800_000_000_000  // on a minute boundary

    @Test func aBucketInDebtShowsMoreUsedThanItsLimitAndWhenItIsFullAgain() {
        // 1 a second, and a send of 3 recipients left it 2 in debt a second ago.
        let usage = RateLimitPolicy.usage(
            limits: RateLimits(rate: .perSecond(1)), bucket: .init(tokens: -2, updatedMs: nowMs - 1000), minuteCounts: [],
            nowMs: nowMs)
        #expect(usage.rate == .init(used: 2, limit: 1, period: .seconds(1), resetsAt: Date(millisecondsSince1970: nowMs + 2000)))
        #expect(usage.daily == nil)
    }

    @Test func theDailyWindowCountsOnlyLiveMinutesAndResetsWhenTheNewestAgesOut() {
        let minute = nowMs / RateLimitPolicy.minuteMs
        let counts: [(minute: Int64, sends: Int)] = [
            (minute - RateLimitPolicy.windowMinutes, 50),  // aged out just now
            (minute - 100, 3), (minute - 10, 0), (minute - 5, 4),
        ]
        let usage = RateLimitPolicy.usage(limits: RateLimits(daily: 10), bucket: nil, minuteCounts: counts, nowMs: nowMs)
        let resets = (minute - 5 + RateLimitPolicy.windowMinutes) * RateLimitPolicy.minuteMs
        #expect(usage.daily == .init(used: 7, limit: 10, period: .seconds(86_400), resetsAt: Date(millisecondsSince1970: resets)))
        #expect(usage.rate == nil)
        let idle = RateLimitPolicy.usage(limits: RateLimits(rate: .perMinute(5), daily: 10), bucket: nil, minuteCounts: [], nowMs: nowMs)
        #expect(idle.daily?.used == 0 && idle.daily?.resetsAt == Date(millisecondsSince1970: nowMs))
        #expect(idle.rate?.used == 0 && idle.rate?.resetsAt == Date(millisecondsSince1970: nowMs))
    }
}
