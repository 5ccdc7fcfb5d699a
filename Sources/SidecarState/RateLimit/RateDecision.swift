/// What ``RateLimiter/acquire(key:limits:now:)`` says.
public enum RateDecision: Sendable, Hashable {
    /// One send was counted. If the send does not go out, ``RateLimiter/refund(_:)`` the ticket.
    case allowed(RateTicket)
    /// Nothing was counted; try again after `retryAfter` (the later of the two limits when
    /// both are exhausted).
    case limited(retryAfter: Duration, reason: RateLimitReason)
}

public enum RateLimitReason: String, Sendable, Hashable {
    /// The token bucket is empty.
    case rate
    /// The rolling 24-hour quota is used up.
    case daily
}

/// One counted send, for ``RateLimiter/refund(_:)``.
public struct RateTicket: Sendable, Hashable {
    public let key: String
    /// The minute bucket (minutes since the epoch) the send was counted in.
    package let minute: Int64
    /// The bucket's capacity when counted, or nil when no rate applied.
    package let capacity: Double?
    /// The recipients counted.
    package let count: Int

    package init(key: String, minute: Int64, capacity: Double?, count: Int = 1) {
        self.key = key
        self.minute = minute
        self.capacity = capacity
        self.count = count
    }
}
