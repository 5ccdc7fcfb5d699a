/// Cumulative counters of one pool (internal; published through ``PoolStats``).
struct PoolCounters: Hashable, Sendable {
    var created = 0
    var reuses = 0
    var creationFailures = 0
    var discards = 0
    var backoffs = 0
    var expired = 0
    var evicted = 0
    var timeouts = 0
    var cancellations = 0
    /// Connection attempts given up because their requests had gone.
    var abandoned = 0

    mutating func add(_ other: PoolCounters) {
        created += other.created
        reuses += other.reuses
        creationFailures += other.creationFailures
        discards += other.discards
        backoffs += other.backoffs
        expired += other.expired
        evicted += other.evicted
        timeouts += other.timeouts
        cancellations += other.cancellations
        abandoned += other.abandoned
    }
}
