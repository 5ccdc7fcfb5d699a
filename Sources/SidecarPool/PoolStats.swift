/// Figures for one pool, or totals over all of them. Plain values, safe to log or serve:
/// the label is whatever non-secret text the caller gave (e.g. "ws-1/cred-9/smtp.example.com:587").
public struct PoolStats: Hashable, Sendable, Codable {
    public var label: String
    // Gauges (now).
    /// Connections counted against the limits: creating, idle, leased or closing.
    public var open = 0
    public var creating = 0
    public var idle = 0
    public var leased = 0
    public var closing = 0
    public var waiting = 0
    /// The cap in force now (lower than configured during a back-off). 0 in totals.
    public var cap = 0
    // Counters (since start; totals include pools that have since emptied).
    public var connectionsCreated = 0
    public var reuses = 0
    public var creationFailures = 0
    public var discards = 0
    public var backoffs = 0
    /// Closed for idle timeout, age or use count.
    public var expired = 0
    /// Idle connections closed to make room for another request.
    public var evicted = 0
    /// Requests that failed with `pool_busy`, or whose own deadline passed while waiting.
    public var timeouts = 0
    public var cancellations = 0
    /// Connection attempts given up because their requests had gone (deadline, cancellation, shutdown).
    public var abandoned = 0

    public init(label: String) {
        self.label = label
    }

    mutating func add(_ counters: PoolCounters) {
        connectionsCreated += counters.created
        reuses += counters.reuses
        creationFailures += counters.creationFailures
        discards += counters.discards
        backoffs += counters.backoffs
        expired += counters.expired
        evicted += counters.evicted
        timeouts += counters.timeouts
        cancellations += counters.cancellations
        abandoned += counters.abandoned
    }
}
