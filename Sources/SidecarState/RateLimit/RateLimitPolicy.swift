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

    /// - Parameters:
    ///   - minuteCounts: the recipients counted per minute bucket inside the window, oldest first.
    ///   - count: the recipients of this send: providers count their limits in recipients.
    ///     A send with more recipients than the rate's whole burst goes when the bucket is
    ///     full (it could never go otherwise) and leaves it in debt.
    package static func evaluate(
        limits: RateLimits, bucket: Bucket?, minuteCounts: [(minute: Int64, sends: Int)], nowMs: Int64, count: Int = 1
    ) -> Outcome {
        let count = max(count, 1)
        let minute = nowMs / minuteMs
        var retryAfterMs: Int64 = 0
        var reason: RateLimitReason?
        var newBucket: Bucket?

        if let rate = limits.rate {
            let tokens = tokens(of: bucket, rate: rate, nowMs: nowMs)
            let capacity = Double(max(rate.count, 0))
            // What this send needs: its recipients, or a full bucket when it has more.
            let needed = min(Double(count), capacity)
            if tokens >= needed, needed > 0 {
                newBucket = Bucket(tokens: tokens - Double(count), updatedMs: nowMs)
            } else {
                let refill = refillPerMs(rate)
                let wait =
                    refill > 0 ? Int64(clampingDouble: ((max(needed, 1) - tokens) / refill).rounded(.up)) : windowMinutes * minuteMs
                retryAfterMs = max(retryAfterMs, max(wait, 1))
                reason = .rate
            }
        }

        if let daily = limits.daily {
            let used = minuteCounts.reduce(Int64(0)) { $0.saturatingAdding(Int64($1.sends)) }
            if used.saturatingAdding(Int64(count)) > Int64(daily) {
                // Recipients must age out until this send fits: find the bucket whose expiry
                // gets there (a send larger than the whole quota waits for a full window).
                let mustExpire = used.saturatingAdding(Int64(count)).saturatingSubtracting(Int64(daily))
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
