/// Figures for one pool, or totals over all of them. Plain values, safe to log or serve:
/// the label is whatever non-secret text the caller gave (e.g. "ws-1/cred-9/smtp.example.com:587").
package struct PoolStats: Hashable, Sendable, Codable {
    package var label: String
    // Gauges (now).
    /// Connections counted against the limits: creating, idle, leased or closing.
    package var open = 0
    package var creating = 0
    package var idle = 0
    package var leased = 0
    package var closing = 0
    package var waiting = 0
    /// The cap in force now (lower than configured during a back-off). 0 in totals.
    package var cap = 0
    // Counters (since start; totals include pools that have since emptied).
    package var connectionsCreated = 0
    package var reuses = 0
    package var creationFailures = 0
    package var discards = 0
    package var backoffs = 0
    /// Closed for idle timeout, age or use count.
    package var expired = 0
    /// Idle connections closed to make room for another request.
    package var evicted = 0
    /// Requests that failed with `pool_busy`, or whose own deadline passed while waiting.
    package var timeouts = 0
    package var cancellations = 0
    /// Connection attempts given up because their requests had gone (deadline, cancellation, shutdown).
    package var abandoned = 0

    package init(label: String) {
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
