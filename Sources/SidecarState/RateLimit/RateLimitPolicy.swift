import SidecarCore

/// The pure rule of ``RateLimiter``: given the stored counters and the time, whether a
/// send may go and what the counters become. No I/O.
package struct RateLimitPolicy: Sendable {
    package static let minuteMs: Int64 = 60_000
    /// The rolling quota window, in minute buckets.
    package static let windowMinutes: Int64 = 24 * 60

    package struct Bucket: Sendable, Hashable {
        package var tokens: Double
        package var updatedMs: Int64

        package init(tokens: Double, updatedMs: Int64) {
            self.tokens = tokens
            self.updatedMs = updatedMs
        }
    }

    package enum Outcome: Sendable, Hashable {
        /// Count the send: store `bucket` (nil: no rate applies) and add one to `minute`.
        case allow(bucket: Bucket?, minute: Int64)
        case limit(retryAfterMs: Int64, reason: RateLimitReason)
    }

    /// The bucket's tokens at `nowMs`, refilled since it was stored (a missing bucket is full).
    static func tokens(of bucket: Bucket?, rate: RateLimits.Rate, nowMs: Int64) -> Double {
        let capacity = Double(max(rate.count, 0))
        guard let bucket else { return capacity }
        let elapsed = Double(max(nowMs.saturatingSubtracting(bucket.updatedMs), 0))
        return min(capacity, bucket.tokens + elapsed * refillPerMs(rate))
    }

    static func refillPerMs(_ rate: RateLimits.Rate) -> Double {
        let perMs = Double(max(rate.per.wholeMilliseconds, 1))
        return Double(max(rate.count, 0)) / perMs
    }

    /// - Parameter minuteCounts: the sends per minute bucket inside the window, oldest first.
    package static func evaluate(
        limits: RateLimits, bucket: Bucket?, minuteCounts: [(minute: Int64, sends: Int)], nowMs: Int64
    ) -> Outcome {
        let minute = nowMs / minuteMs
        var retryAfterMs: Int64 = 0
        var reason: RateLimitReason?
        var newBucket: Bucket?

        if let rate = limits.rate {
            let tokens = tokens(of: bucket, rate: rate, nowMs: nowMs)
            if tokens >= 1 {
                newBucket = Bucket(tokens: tokens - 1, updatedMs: nowMs)
            } else {
                let refill = refillPerMs(rate)
                let wait = refill > 0 ? Int64(clampingDouble: ((1 - tokens) / refill).rounded(.up)) : windowMinutes * minuteMs
                retryAfterMs = max(retryAfterMs, max(wait, 1))
                reason = .rate
            }
        }

        if let daily = limits.daily {
            let used = minuteCounts.reduce(Int64(0)) { $0.saturatingAdding(Int64($1.sends)) }
            if used >= Int64(daily) {
                // Sends must age out until used < daily: find the bucket whose expiry gets there.
                let mustExpire = used.saturatingSubtracting(Int64(daily)).saturatingAdding(1)
                var expired: Int64 = 0
                var wait = windowMinutes * minuteMs
                for entry in minuteCounts {
                    expired = expired.saturatingAdding(Int64(entry.sends))
                    if expired >= mustExpire {
                        wait = entry.minute.saturatingAdding(windowMinutes).saturatingMultiplied(by: minuteMs)
                            .saturatingSubtracting(nowMs)
                        break
                    }
                }
                if wait >= retryAfterMs {
                    retryAfterMs = max(wait, 1)
                    reason = .daily
                }
            }
        }

        if let reason { return .limit(retryAfterMs: retryAfterMs, reason: reason) }
        return .allow(bucket: newBucket, minute: minute)
    }
}
