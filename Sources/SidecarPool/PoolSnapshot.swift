/// A consistent picture of every pool at one instant.
public struct PoolSnapshot: Hashable, Sendable, Codable {
    /// One entry per live pool, sorted by label.
    public var pools: [PoolStats]
    /// Sums over all pools, including the counters of pools since forgotten.
    public var totals: PoolStats
    public var isShuttingDown: Bool
}
