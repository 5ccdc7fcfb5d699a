import Foundation
import SidecarCore
import Synchronization
import Testing

import SidecarTestSupport
@testable import SidecarState

/// Issue 21 item 3: expired dedup records and rate counters are purged at start and then
/// every interval. (On d967eb0 nothing called purgeExpired.)
@Suite("StatePurger")
struct StatePurgerTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// The wall clock the purger reads, moved together with the mock clock.
    final class WallClock: Sendable {
        private let now: Mutex<Date>
        init(_ start: Date) { now = Mutex(start) }
        func read() -> Date { now.withLock { $0 } }
        func advance(by seconds: TimeInterval) { now.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    @Test("purges at start, then once per interval on the injected clock, and stops when cancelled")
    func schedule() async throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        let dedup = DedupStore(database: database)
        let limiter = RateLimiter(database: database)
        let wall = WallClock(t0)
        // Finished sends with a 10 s window, and one send counted (a minute count and a bucket).
        for key in ["a", "b"] {
            guard case .proceed(let ticket) = try dedup.begin(key: key, window: .seconds(10), now: t0.addingTimeInterval(-20)) else {
                throw TestFailure("proceed")
            }
            try await dedup.complete(ticket, resultJSON: "{}", countsAsSent: true)
        }
        guard case .proceed(let later) = try dedup.begin(key: "c", window: .seconds(100), now: t0) else { throw TestFailure("proceed") }
        try await dedup.complete(later, resultJSON: "{}", countsAsSent: true)
        _ = try await limiter.acquire(key: "r", limits: RateLimits(rate: .perMinute(5), daily: 5), now: t0)

        let clock = MockClock()
        let purger = StatePurger(dedup: dedup, rateLimiter: limiter, interval: .seconds(300), now: { wall.read() })
        let (reports, continuation) = AsyncStream.makeStream(of: StatePurger.Report.self)
        let task = Task {
            await purger.run(clock: clock) { outcome in
                if case .success(let report) = outcome { continuation.yield(report) }
            }
            continuation.finish()
        }
        var iterator = reports.makeAsyncIterator()
        // At start: the two expired records go; the live one and the counter stay.
        #expect(await iterator.next() == StatePurger.Report(dedupRecords: 2, rateCounters: 0))
        #expect(try database.withConnection { try $0.query("SELECT key FROM dedup").map { try $0.text(0) } } == ["c"])

        // Nothing more happens until the interval has passed on the clock.
        while clock.sleeperCount == 0 { await Task.yield() }
        wall.advance(by: 2 * 86_400)
        clock.advance(by: .seconds(299))
        #expect(clock.sleeperCount == 1)
        clock.advance(by: .seconds(1))
        #expect(await iterator.next() == StatePurger.Report(dedupRecords: 1, rateCounters: 2))
        #expect(try database.withConnection { try $0.query("SELECT key FROM dedup").count } == 0)
        #expect(try database.withConnection { try $0.query("SELECT key FROM rate_minute").count } == 0)

        task.cancel()
        #expect(await iterator.next() == nil)
    }

    @Test("a failed purge is reported and the next interval tries again")
    func failureIsRetried() async throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        let purger = StatePurger(dedup: DedupStore(database: database), rateLimiter: nil, interval: .seconds(60))
        database.close()
        let clock = MockClock()
        let (outcomes, continuation) = AsyncStream.makeStream(of: Bool.self)
        let task = Task {
            await purger.run(clock: clock) { outcome in
                if case .success = outcome { continuation.yield(true) } else { continuation.yield(false) }
            }
            continuation.finish()
        }
        var iterator = outcomes.makeAsyncIterator()
        #expect(await iterator.next() == false)
        while clock.sleeperCount == 0 { await Task.yield() }
        clock.advance(by: .seconds(60))
        #expect(await iterator.next() == false)
        task.cancel()
        #expect(await iterator.next() == nil)
    }
}
