import FoundationEssentials

/// Deletes what the state database no longer needs — dedup records past their window and
/// rate counters older than a day — once at start and then every `interval`, so that the
/// file does not grow with every distinct send for ever.
///
/// The shell of a service: ``run(clock:)`` loops until its task is cancelled; the daemon
/// wraps it in a swift-service-lifecycle `Service`. Time is injected (`clock` for the
/// waits, `now` for the records' wall-clock times), so tests drive it on a mock clock. A
/// failed purge is reported to `report` and retried at the next interval: a database that
/// is busy for a moment must not stop the daemon.
public struct StatePurger: Sendable {
    /// What one purge did.
    public struct Report: Sendable, Hashable {
        public var dedupRecords: Int
        public var rateCounters: Int
    }

    /// The default interval: five minutes.
    public static let defaultInterval: Duration = .seconds(300)

    let dedup: (any DedupStoring)?
    let rateLimiter: (any RateLimiting)?
    let interval: Duration
    let now: @Sendable () -> Date

    public init(
        dedup: (any DedupStoring)?, rateLimiter: (any RateLimiting)?, interval: Duration = Self.defaultInterval,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.dedup = dedup
        self.rateLimiter = rateLimiter
        // A zero or negative interval would spin.
        self.interval = max(interval, .milliseconds(1))
        self.now = now
    }

    /// Purges now, then every `interval` on `clock`, until the task is cancelled (then it
    /// returns). `report` hears of every purge, done or failed.
    public func run<C: Clock>(
        clock: C, report: @Sendable (Result<Report, any Error>) -> Void = { _ in }
    ) async where C.Duration == Duration {
        while !Task.isCancelled {
            report(await purgeOnce())
            do {
                try await clock.sleep(for: interval)
            } catch {
                return
            }
        }
    }

    /// One purge of both stores, at `now()`.
    public func purgeOnce() async -> Result<Report, any Error> {
        let time = now()
        do {
            let records = try await dedup?.purgeExpired(now: time) ?? 0
            let counters = try await rateLimiter?.purgeExpired(now: time) ?? 0
            return .success(Report(dedupRecords: records, rateCounters: counters))
        } catch {
            return .failure(error)
        }
    }
}
