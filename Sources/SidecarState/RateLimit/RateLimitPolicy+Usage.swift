import FoundationEssentials

extension RateLimitPolicy {
    /// What the stored counters say is used of `limits` at `nowMs`, by the same rule as
    /// ``evaluate(limits:bucket:minuteCounts:nowMs:count:)``, counting nothing.
    ///
    /// - Parameter minuteCounts: the recipients counted per minute bucket inside the window,
    ///   oldest first (buckets that have aged out may be included: they are left out here).
    package static func usage(
        limits: RateLimits, bucket: Bucket?, minuteCounts: [(minute: Int64, sends: Int)], nowMs: Int64
    ) -> RateUsage {
        var usage = RateUsage()
        if let rate = limits.rate {
            let capacity = Double(max(rate.count, 0))
            let missing = max(capacity - tokens(of: bucket, rate: rate, nowMs: nowMs), 0)
            let refill = refillPerMs(rate)
            let untilFullMs = refill > 0 ? Int64(clampingDouble: (missing / refill).rounded(.up)) : 0
            usage.rate = RateUsage.Window(
                used: Int(Int64(clampingDouble: missing.rounded(.up))), limit: rate.count, period: rate.per,
                resetsAt: Date(millisecondsSince1970: nowMs.saturatingAdding(untilFullMs)))
        }
        if let daily = limits.daily {
            let oldestMinute = nowMs / minuteMs - windowMinutes
            let live = minuteCounts.filter { $0.minute > oldestMinute && $0.sends > 0 }
            let used = live.reduce(0) { $0.addingReportingOverflow($1.sends).partialValue }
            // A minute's count ages out when the window has moved past it: the newest one last.
            let resetsMs = live.map(\.minute).max().map { ($0 + windowMinutes).saturatingMultiplied(by: minuteMs) } ?? nowMs
            usage.daily = RateUsage.Window(
                used: used, limit: daily, period: .milliseconds(windowMinutes * minuteMs),
                resetsAt: Date(millisecondsSince1970: max(resetsMs, nowMs)))
        }
        return usage
    }
}
