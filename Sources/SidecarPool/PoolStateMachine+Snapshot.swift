extension PoolStateMachine {
    func snapshot(now: Instant) -> PoolSnapshot {
        var totals = PoolStats(label: "total")
        totals.add(retiredCounters)
        var stats: [PoolStats] = []
        for (_, pool) in pools {
            var item = PoolStats(label: pool.label)
            item.add(pool.counters)
            item.cap = effectiveCap(of: pool, now: now)
            item.waiting = pool.waiters.count
            for id in pool.connections {
                switch entries[id]?.state {
                case .creating: item.creating += 1
                case .idle: item.idle += 1
                case .leased: item.leased += 1
                case .closing: item.closing += 1
                case nil: break
                }
            }
            item.open = pool.connections.count
            stats.append(item)
            totals.add(pool.counters)
            totals.open += item.open
            totals.creating += item.creating
            totals.idle += item.idle
            totals.leased += item.leased
            totals.closing += item.closing
            totals.waiting += item.waiting
        }
        stats.sort { $0.label < $1.label }
        return PoolSnapshot(pools: stats, totals: totals, isShuttingDown: phase != .running)
    }
}
