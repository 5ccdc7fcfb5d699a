/// A consistent picture of every pool at one instant.
package struct PoolSnapshot: Hashable, Sendable, Codable {
    /// One entry per live pool, sorted by label.
    package var pools: [PoolStats]
    /// Sums over all pools, including the counters of pools since forgotten.
    package var totals: PoolStats
    package var isShuttingDown: Bool
}
