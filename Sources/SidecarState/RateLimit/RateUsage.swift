import FoundationEssentials

/// What is used of a credential's limits at one instant, read without counting anything
/// (``RateLimiting/usage(key:limits:now:)``): for each limit that is set, the recipients
/// counted against it, the limit, and when all of it is free again.
public struct RateUsage: Sendable, Hashable {
    public struct Window: Sendable, Hashable {
        /// Recipients counted against the limit now (for the rate: the tokens the bucket
        /// lacks, rounded up; above ``limit`` when a large send left it in debt).
        public var used: Int
        public var limit: Int
        /// The limit's period: the rate's `per`, or 24 hours for the daily quota.
        public var period: Duration
        /// When nothing is counted against the limit any more (`now` when nothing is).
        public var resetsAt: Date

        public init(used: Int, limit: Int, period: Duration, resetsAt: Date) {
            self.used = used
            self.limit = limit
            self.period = period
            self.resetsAt = resetsAt
        }
    }

    /// The token bucket, when the limits set a rate.
    public var rate: Window?
    /// The rolling 24 hours, when the limits set a daily quota.
    public var daily: Window?

    public init(rate: Window? = nil, daily: Window? = nil) {
        self.rate = rate
        self.daily = daily
    }
}
