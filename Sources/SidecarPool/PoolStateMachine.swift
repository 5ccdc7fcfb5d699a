/// Every decision of the connection pool, as a pure value.
///
/// Events come in as `mutating` methods with the current instant; each returns ``Actions``
/// for the shell to carry out. The machine never sleeps, locks or does I/O, so tests drive
/// it synchronously with made-up instants.
///
/// A pool exists per key; a connection belongs to the key it was made for and is only ever
/// lent to requests for that key. Connections count against both the per-pool and the
/// overall limit from the moment creation starts until the shell reports them closed.
///
/// Each pool may also belong to share groups (``PoolShareGroup``): the connections of a
/// group's pools together stay within the group's limit, a fair share of the overall one.
///
/// A connection being made for requests that have all gone (their deadline passed, they
/// were cancelled, or the pool shuts down) is abandoned: the shell cancels its creation,
/// and its slot is free once the factory reports back. It is never lent.
///
/// Connection lifecycle (``ConnectionState``):
///   creating → idle | leased | closing (during shutdown, or abandoned) | gone (creation failed)
///   idle     → leased | closing (idle timeout, age, evicted for room, shutdown)
///   leased   → idle | leased (handed straight to the next waiter) | closing (discard, used up, aged, shutdown)
///   closing  → gone (`connectionClosed`)
struct PoolStateMachine<Key: Hashable & Sendable, Connection: Sendable, Instant: InstantProtocol>: Sendable
where Instant.Duration == Duration {

    /// Pool-wide phase.
    enum Phase: Hashable, Sendable {
        /// Serving requests. Can become `shuttingDown`.
        case running
        /// New requests fail, waiters have failed, idle connections are closing and leased
        /// ones close when released. Becomes `shutDown` when no connection is left.
        case shuttingDown
        /// Final: nothing is open and nothing will be.
        case shutDown
    }

    enum ConnectionState: Hashable, Sendable {
        case creating
        case idle(since: Instant)
        case leased
        case closing
    }

    struct Entry: Sendable {
        let id: PoolConnectionID
        let key: Key
        var state: ConnectionState
        var connection: Connection?
        var createdAt: Instant?
        var useCount = 0
        /// A connection in creation nobody wants any more: its creation is being cancelled.
        var abandoned = false
    }

    struct Waiter: Hashable, Sendable {
        var request: PoolRequestID
        /// Global arrival order, for fairness between pools competing for the overall limit.
        var sequence: Int
        var requireFresh: Bool
        var deadline: Instant
        /// Whether `deadline` is the request's own (it fails with `deadlineExceeded`), not
        /// the pool's `maxWait` (`busy`).
        var isRequestDeadline: Bool
    }

    struct BackOff: Hashable, Sendable {
        var cap: Int
        var until: Instant
    }

    struct Pool: Sendable {
        var label: String
        var connections: Set<PoolConnectionID> = []
        /// Idle connections, longest idle first.
        var idle: [PoolConnectionID] = []
        /// Waiting requests in arrival order.
        var waiters: [Waiter] = []
        var backOff: BackOff?
        var prewarmPausedUntil: Instant?
        var counters = PoolCounters()
        /// The share groups this pool's connections count against.
        var groups: [PoolShareGroup] = []

        /// Nothing open, nobody waiting, no back-off or prewarm pause to remember: the pool
        /// can be forgotten.
        var isEmpty: Bool {
            connections.isEmpty && waiters.isEmpty && backOff == nil && prewarmPausedUntil == nil
        }
    }

    let configuration: PoolConfiguration
    private(set) var phase = Phase.running
    private(set) var pools: [Key: Pool] = [:]
    private(set) var entries: [PoolConnectionID: Entry] = [:]
    private var waiterKeys: [PoolRequestID: Key] = [:]
    /// Pools with at least one waiter. Without prewarming they are the only pools
    /// `serveAll` has anything to do for, so a send costs O(1) in the number of pools.
    private(set) var poolsWithWaiters: Set<Key> = []
    /// Pools the event in progress may have emptied (created, or lost a connection, a
    /// waiter, a back-off or a prewarm pause); `finish` retires those that are empty
    /// instead of scanning every pool.
    private var touchedPools: Set<Key> = []
    /// Connections open per share group (creating to closed), for the groups' limits.
    private(set) var groupCounts: [PoolShareGroup: Int] = [:]
    private var nextConnectionID = 0
    private var nextSequence = 0
    private var armedTimer: Instant?
    /// The earliest deadline the event in progress added (a waiter, an idle connection, a
    /// back-off, a prewarm pause). While a timer is armed, it is all `finish` looks at:
    /// every older deadline is at or after the armed one, and scanning every waiter and
    /// idle connection on each event cost O(waiters) per send (1% of a send with 64
    /// clients waiting). When the armed timer fires, `finish` scans everything again.
    private var addedDeadline: Instant?
    /// Counters of pools that have since emptied and been forgotten.
    private(set) var retiredCounters = PoolCounters()

    init(configuration: PoolConfiguration) {
        precondition(
            configuration.maxConnectionsPerPool >= 1 && configuration.maxConnectionsTotal >= 1
                && configuration.maxUsesPerConnection >= 1 && configuration.minimumIdleConnections >= 0,
            "PoolConfiguration: limits must be at least 1 (validate configuration before building a pool)"
        )
        self.configuration = configuration
    }

    // MARK: - Events

    /// A request for a connection for `key`, waiting until the request's own `deadline` or
    /// `maxWait`, whichever comes first. `groups`: the share groups of the key's pool (taken
    /// when the pool is made).
    mutating func lease(
        _ request: PoolRequestID,
        key: Key,
        label: String,
        groups: [PoolShareGroup] = [],
        requireFresh: Bool,
        deadline requestDeadline: Instant?,
        now: Instant
    ) -> Actions {
        var actions = Actions()
        guard phase == .running else {
            actions.reject.append(.init(request: request, failure: .shuttingDown))
            return actions
        }
        if pools[key] == nil {
            pools[key] = Pool(label: label, groups: groups)
            touchedPools.insert(key)
        } else if pools[key]!.label != label {
            pools[key]!.label = label
        }
        // A pool made by a back-off has no groups yet; groups change only while nothing
        // counts against them.
        if pools[key]!.groups != groups, pools[key]!.connections.isEmpty { pools[key]!.groups = groups }
        let waitLimit = now.advanced(by: configuration.maxWait)
        let isRequestDeadline = requestDeadline.map { $0 < waitLimit } ?? false
        let deadline = min(requestDeadline ?? waitLimit, waitLimit)

        if !requireFresh, let id = takeIdle(key: key, now: now, actions: &actions) {
            actions.grant.append(.init(request: request, lease: lend(id, now: now)))
            serve(key: key, now: now, actions: &actions)  // prewarming may want a replacement
        } else if deadline <= now {
            pools[key]!.counters.timeouts += 1
            actions.reject.append(.init(request: request, failure: isRequestDeadline ? .deadlineExceeded : .busy))
        } else {
            let waiter = Waiter(
                request: request, sequence: nextSequence, requireFresh: requireFresh, deadline: deadline,
                isRequestDeadline: isRequestDeadline)
            nextSequence += 1
            pools[key]!.waiters.append(waiter)
            poolsWithWaiters.insert(key)
            deadlineAdded(deadline)
            waiterKeys[request] = key
            serve(key: key, now: now, actions: &actions)
        }
        finish(now: now, actions: &actions)
        return actions
    }

    /// ``lease(_:key:label:requireFresh:deadline:now:)`` when an idle connection serves the
    /// request at once; nil, with nothing changed, when the request would wait, be refused
    /// or find the idle connection expired. The shell then hands a warm connection over
    /// without suspending the caller.
    mutating func leaseIdle(_ request: PoolRequestID, key: Key, label: String, now: Instant) -> Actions? {
        // The connection takeIdle would try first (the most recently used).
        guard phase == .running, let id = pools[key]?.idle.last, let entry = entries[id],
            !isExpiredIdle(entry, now: now)
        else { return nil }
        return lease(request, key: key, label: label, requireFresh: false, deadline: now, now: now)
    }

    /// The request's task was cancelled: it leaves the queue at once.
    mutating func cancel(_ request: PoolRequestID, now: Instant) -> Actions {
        var actions = Actions()
        if let key = waiterKeys.removeValue(forKey: request),
            let index = pools[key]?.waiters.firstIndex(where: { $0.request == request })
        {
            pools[key]!.waiters.remove(at: index)
            waitersRemoved(from: key)
            pools[key]!.counters.cancellations += 1
            actions.reject.append(.init(request: request, failure: .cancelled))
            abandonSurplusCreations(key: key, now: now, actions: &actions)
        }
        finish(now: now, actions: &actions)
        return actions
    }

    mutating func connectionCreated(_ id: PoolConnectionID, connection: Connection, now: Instant) -> Actions {
        var actions = Actions()
        guard var entry = entries[id], entry.state == .creating else { return actions }
        entry.connection = connection
        entry.createdAt = now
        entries[id] = entry
        pools[entry.key]!.counters.created += 1
        if phase != .running || entry.abandoned {
            // Made too late for the requests it was for: not kept, so that a deadline
            // leaves nothing of its request behind.
            close(id, gracefully: true, actions: &actions)
        } else {
            lendOrIdle(id, key: entry.key, reused: false, now: now, actions: &actions)
        }
        serveAll(now: now, actions: &actions)
        finish(now: now, actions: &actions)
        return actions
    }

    /// The factory failed. The longest-waiting request of that pool fails with the error, so
    /// that an unreachable server is reported as such rather than as a busy pool.
    mutating func connectionCreationFailed(_ id: PoolConnectionID, now: Instant) -> Actions {
        var actions = Actions()
        guard let entry = entries[id], entry.state == .creating else { return actions }
        removeEntry(id)
        if entry.abandoned {
            // Cancelled because its requests had gone: not the server's failure, and no
            // waiter's (a waiter that came since has a creation of its own).
            serveAll(now: now, actions: &actions)
            finish(now: now, actions: &actions)
            return actions
        }
        pools[entry.key]!.counters.creationFailures += 1
        if phase == .running, let waiter = popWaiter(key: entry.key, offeringReused: false) {
            actions.reject.append(.init(request: waiter.request, failure: .connectionFailed))
        }
        if configuration.minimumIdleConnections > 0 {
            pools[entry.key]!.prewarmPausedUntil = now.advanced(by: configuration.prewarmRetryDelay)
            deadlineAdded(pools[entry.key]!.prewarmPausedUntil)
        }
        serveAll(now: now, actions: &actions)
        finish(now: now, actions: &actions)
        return actions
    }

    /// The caller is done with a lease.
    mutating func release(_ id: PoolConnectionID, disposition: ReleaseDisposition, now: Instant) -> Actions {
        var actions = Actions()
        guard let entry = entries[id], entry.state == .leased else { return actions }
        switch disposition {
        case .discard:
            pools[entry.key]!.counters.discards += 1
            close(id, gracefully: false, actions: &actions)
        case .retire:
            pools[entry.key]!.counters.expired += 1
            close(id, gracefully: true, actions: &actions)
        case .reuse:
            if phase != .running {
                close(id, gracefully: true, actions: &actions)
            } else if isUsedUp(entry, now: now) {
                pools[entry.key]!.counters.expired += 1
                close(id, gracefully: true, actions: &actions)
            } else {
                lendOrIdle(id, key: entry.key, reused: true, now: now, actions: &actions)
            }
        }
        serveAll(now: now, actions: &actions)
        finish(now: now, actions: &actions)
        return actions
    }

    /// Lends connection `id` (just made, or just given back: `reused`) to the longest-waiting
    /// request of its pool that will take it, or makes it idle.
    private mutating func lendOrIdle(
        _ id: PoolConnectionID, key: Key, reused: Bool, now: Instant, actions: inout Actions
    ) {
        if let waiter = popWaiter(key: key, offeringReused: reused) {
            actions.grant.append(.init(request: waiter.request, lease: lend(id, now: now)))
        } else {
            makeIdle(id, now: now)
        }
    }

    /// The factory finished closing a connection; its slot is free.
    mutating func connectionClosed(_ id: PoolConnectionID, now: Instant) -> Actions {
        var actions = Actions()
        guard let entry = entries[id], entry.state == .closing else { return actions }
        removeEntry(id)
        serveAll(now: now, actions: &actions)
        finish(now: now, actions: &actions)
        return actions
    }

    /// The server asked for fewer connections (SMTP 421/454/4.7.x "too many connections").
    /// Until `until`, the pool's cap drops to one below its current cap, and no further than
    /// the connections it has open that are not closing, never below 1. Call it after
    /// releasing the refused connection with `.discard` (or after its creation failed).
    /// Waiters keep waiting within their deadlines.
    mutating func backOff(key: Key, until: Instant, now: Instant) -> Actions {
        var actions = Actions()
        if pools[key] == nil { touchedPools.insert(key) }
        var pool = pools[key] ?? Pool(label: "")
        let open = pool.connections.count { entries[$0]?.state != .closing }
        let cap = max(1, min(effectiveCap(of: pool, now: now) - 1, open))
        let previous = pool.backOff
        pool.backOff = BackOff(
            cap: min(cap, previous?.cap ?? cap),
            until: previous.map { max($0.until, until) } ?? until
        )
        pool.counters.backoffs += 1
        pools[key] = pool
        deadlineAdded(pool.backOff?.until)
        finish(now: now, actions: &actions)
        return actions
    }

    /// A timer went off: expire waiters, idle and aged connections, back-offs and prewarm pauses.
    mutating func timerFired(now: Instant) -> Actions {
        var actions = Actions()
        if let armed = armedTimer, armed <= now { armedTimer = nil }
        for key in Array(pools.keys) {
            touchedPools.insert(key)
            var pool = pools[key]!
            let expiredWaiters = pool.waiters.filter { $0.deadline <= now }
            pool.waiters.removeAll { $0.deadline <= now }
            if pool.waiters.isEmpty { poolsWithWaiters.remove(key) }
            for waiter in expiredWaiters {
                waiterKeys[waiter.request] = nil
                pool.counters.timeouts += 1
                actions.reject.append(.init(request: waiter.request, failure: expiryFailure(of: waiter, in: pool)))
            }
            if let backOff = pool.backOff, backOff.until <= now { pool.backOff = nil }
            if let paused = pool.prewarmPausedUntil, paused <= now { pool.prewarmPausedUntil = nil }
            pools[key] = pool
            if !expiredWaiters.isEmpty { abandonSurplusCreations(key: key, now: now, actions: &actions) }
            // Oldest first; prewarmed connections (up to the minimum) are exempt from the idle timeout.
            var idleTimeoutCandidates = pool.idle.count - configuration.minimumIdleConnections
            for id in pool.idle {
                let entry = entries[id]!
                if isUsedUp(entry, now: now) {
                    pools[key]!.counters.expired += 1
                    close(id, gracefully: true, actions: &actions)
                } else if idleTimeoutCandidates > 0, isPastIdleTimeout(entry, now: now) {
                    idleTimeoutCandidates -= 1
                    pools[key]!.counters.expired += 1
                    close(id, gracefully: true, actions: &actions)
                }
            }
        }
        serveAll(now: now, actions: &actions)
        finish(now: now, actions: &actions)
        return actions
    }

    /// Why `waiter` failed when its deadline passed: its own deadline, or the pool's wait
    /// limit while the pool's connections were lent out (`busy`), or while the only thing it
    /// could wait for was a connection still being set up (`connectionNotReady`).
    private func expiryFailure(of waiter: Waiter, in pool: Pool) -> Failure {
        if waiter.isRequestDeadline { return .deadlineExceeded }
        var settingUp = false
        var lent = false
        for id in pool.connections {
            guard let entry = entries[id] else { continue }
            switch entry.state {
            case .creating: if !entry.abandoned { settingUp = true }
            case .leased: lent = true
            case .idle, .closing: break
            }
        }
        return settingUp && (!lent || waiter.requireFresh) ? .connectionNotReady : .busy
    }

    /// Stop lending: waiters fail, idle connections close gracefully, leased ones close when
    /// released. `shutdownComplete` is reported once the last connection has closed.
    mutating func shutdown(now: Instant) -> Actions {
        var actions = Actions()
        guard phase == .running else { return actions }
        phase = .shuttingDown
        for key in Array(pools.keys) {
            for waiter in pools[key]!.waiters {
                actions.reject.append(.init(request: waiter.request, failure: .shuttingDown))
            }
            pools[key]!.waiters.removeAll()
            touchedPools.insert(key)
            for id in pools[key]!.idle {
                close(id, gracefully: true, actions: &actions)
            }
            // Nobody will take what is still being made: stop making it.
            abandonSurplusCreations(key: key, now: now, actions: &actions)
        }
        waiterKeys.removeAll()
        poolsWithWaiters.removeAll()
        finish(now: now, actions: &actions)
        return actions
    }

    // MARK: - Queries

    /// The earliest instant at which `timerFired` has something to do.
    func nextDeadline() -> Instant? {
        var next: Instant?
        func consider(_ instant: Instant?) {
            guard let instant else { return }
            if next.map({ instant < $0 }) ?? true { next = instant }
        }
        for (_, pool) in pools {
            for waiter in pool.waiters { consider(waiter.deadline) }
            consider(pool.backOff?.until)
            consider(pool.prewarmPausedUntil)
            let idleTimeoutApplies = pool.idle.count > configuration.minimumIdleConnections
            for id in pool.idle {
                guard let entry = entries[id], case .idle(let since) = entry.state else { continue }
                if idleTimeoutApplies { consider(since.advanced(by: configuration.idleTimeout)) }
                consider(entry.createdAt?.advanced(by: configuration.maxConnectionAge))
            }
        }
        return next
    }

    /// The current cap of a pool: the configured one, or lower during a back-off.
    func effectiveCap(of pool: Pool, now: Instant) -> Int {
        guard let backOff = pool.backOff, now < backOff.until else { return configuration.maxConnectionsPerPool }
        return min(backOff.cap, configuration.maxConnectionsPerPool)
    }

    // MARK: - Internals

    /// Gives waiters of `key` whatever can be had now: idle connections, new connections
    /// within the limits, or room made by closing an idle connection nobody here can use.
    private mutating func serve(key: Key, now: Instant, actions: inout Actions) {
        guard phase == .running, pools[key] != nil else { return }
        // Idle connections go to the first waiters that accept a reused connection.
        while pools[key]!.waiters.contains(where: { !$0.requireFresh }),
            let id = takeIdle(key: key, now: now, actions: &actions)
        {
            let waiter = popWaiter(key: key, offeringReused: true)!
            actions.grant.append(.init(request: waiter.request, lease: lend(id, now: now)))
        }
        let pool = pools[key]!
        let creating = pool.connections.count { entries[$0].map { $0.state == .creating && !$0.abandoned } ?? false }
        var needed = pool.waiters.count - creating
        if needed <= 0, pool.waiters.isEmpty, configuration.minimumIdleConnections > 0, pool.prewarmPausedUntil == nil {
            needed = configuration.minimumIdleConnections - pool.idle.count - creating
        }
        while needed > 0 {
            switch room(for: key, now: now) {
            case .available:
                startCreating(key: key, actions: &actions)
                needed -= 1
            case .poolFull:
                // Only fresh-only waiters can be left while idle connections exist: make room.
                let pool = pools[key]!
                let closing = pool.connections.contains { entries[$0]?.state == .closing }
                if !pool.waiters.isEmpty, !closing, let oldest = pool.idle.first {
                    pools[key]!.counters.evicted += 1
                    close(oldest, gracefully: true, actions: &actions)
                }
                return
            case .overallFull:
                let closing = entries.values.contains { $0.state == .closing }
                if !pools[key]!.waiters.isEmpty, !closing, let victim = longestIdle() {
                    pools[victim.key]!.counters.evicted += 1
                    close(victim.id, gracefully: true, actions: &actions)
                }
                return
            case .groupFull(let group):
                // The group's share is used up: only an idle connection of the same group
                // may make room; otherwise the waiters wait for the group's connections.
                let keys = Set(pools.compactMap { $0.value.groups.contains(group) ? $0.key : nil })
                let closing = entries.values.contains { $0.state == .closing && keys.contains($0.key) }
                if !pools[key]!.waiters.isEmpty, !closing, let victim = longestIdle(where: { keys.contains($0.key) }) {
                    pools[victim.key]!.counters.evicted += 1
                    close(victim.id, gracefully: true, actions: &actions)
                }
                return
            }
        }
    }

    /// `serve` for every pool with waiters, those with the longest-waiting request first
    /// (fair use of the overall limit), then, when prewarming, for the rest.
    private mutating func serveAll(now: Instant, actions: inout Actions) {
        if !poolsWithWaiters.isEmpty {
            let order = poolsWithWaiters.sorted { lhs, rhs in
                (pools[lhs]?.waiters.first?.sequence ?? .max) < (pools[rhs]?.waiters.first?.sequence ?? .max)
            }
            for key in order { serve(key: key, now: now, actions: &actions) }
        }
        guard configuration.minimumIdleConnections > 0 else { return }
        for key in Array(pools.keys) where !poolsWithWaiters.contains(key) {
            serve(key: key, now: now, actions: &actions)
        }
    }

    private enum Room { case available, poolFull, overallFull, groupFull(PoolShareGroup) }

    private func room(for key: Key, now: Instant) -> Room {
        let pool = pools[key]!
        if pool.connections.count >= effectiveCap(of: pool, now: now) { return .poolFull }
        if entries.count >= configuration.maxConnectionsTotal { return .overallFull }
        for group in pool.groups where groupCounts[group, default: 0] >= group.limit {
            return .groupFull(group)
        }
        return .available
    }

    private mutating func startCreating(key: Key, actions: inout Actions) {
        let id = PoolConnectionID(nextConnectionID)
        nextConnectionID += 1
        entries[id] = Entry(id: id, key: key, state: .creating)
        pools[key]!.connections.insert(id)
        for group in pools[key]!.groups { groupCounts[group, default: 0] += 1 }
        actions.create.append(.init(id: id, key: key))
    }

    /// Forgets a connection that is gone: its slot is free in its pool, overall and in its
    /// groups.
    private mutating func removeEntry(_ id: PoolConnectionID) {
        guard let entry = entries.removeValue(forKey: id) else { return }
        pools[entry.key]!.connections.remove(id)
        touchedPools.insert(entry.key)
        for group in pools[entry.key]!.groups {
            groupCounts[group, default: 1] -= 1
            if groupCounts[group] == 0 { groupCounts[group] = nil }
        }
    }

    /// Abandons the connections `key` is making beyond what its waiters (and prewarming)
    /// still need, newest first: their requests have gone, so their attempts must not
    /// linger (a stalled server would hold their slots for its whole connect timeout).
    private mutating func abandonSurplusCreations(key: Key, now: Instant, actions: inout Actions) {
        guard let pool = pools[key] else { return }
        let creating = pool.connections.filter { entries[$0].map { $0.state == .creating && !$0.abandoned } ?? false }
        var wanted = 0
        if phase == .running {
            wanted = pool.waiters.count
            if configuration.minimumIdleConnections > 0, pool.prewarmPausedUntil == nil {
                wanted = max(wanted, configuration.minimumIdleConnections - pool.idle.count)
            }
        }
        guard creating.count > wanted else { return }
        for id in creating.sorted(by: >).prefix(creating.count - wanted) {
            entries[id]!.abandoned = true
            pools[key]!.counters.abandoned += 1
            actions.cancelCreation.append(id)
        }
    }

    /// The most recently idle connection of `key` still fit to lend; closes unfit ones found.
    private mutating func takeIdle(key: Key, now: Instant, actions: inout Actions) -> PoolConnectionID? {
        while let id = pools[key]?.idle.popLast() {
            if isExpiredIdle(entries[id]!, now: now) {
                pools[key]!.counters.expired += 1
                close(id, gracefully: true, actions: &actions)
                continue
            }
            return id
        }
        return nil
    }

    /// An idle connection that must be closed rather than lent: used up, too old, or idle
    /// too long (unless a minimum of idle connections is kept warm).
    private func isExpiredIdle(_ entry: Entry, now: Instant) -> Bool {
        let idleTimeoutApplies = configuration.minimumIdleConnections == 0
        return isUsedUp(entry, now: now) || (idleTimeoutApplies && isPastIdleTimeout(entry, now: now))
    }

    private func isPastIdleTimeout(_ entry: Entry, now: Instant) -> Bool {
        guard case .idle(let since) = entry.state else { return false }
        return since.advanced(by: configuration.idleTimeout) <= now
    }

    private func isUsedUp(_ entry: Entry, now: Instant) -> Bool {
        if entry.useCount >= configuration.maxUsesPerConnection { return true }
        guard let createdAt = entry.createdAt else { return false }
        return createdAt.advanced(by: configuration.maxConnectionAge) <= now
    }

    private func longestIdle(where include: (Entry) -> Bool = { _ in true }) -> Entry? {
        var best: (entry: Entry, since: Instant)?
        for entry in entries.values where include(entry) {
            guard case .idle(let since) = entry.state else { continue }
            if best.map({ since < $0.since }) ?? true { best = (entry, since) }
        }
        return best?.entry
    }

    /// Removes and returns the first waiter of `key` that can take the connection on offer.
    private mutating func popWaiter(key: Key, offeringReused: Bool) -> Waiter? {
        guard let index = pools[key]?.waiters.firstIndex(where: { !offeringReused || !$0.requireFresh }) else {
            return nil
        }
        let waiter = pools[key]!.waiters.remove(at: index)
        waiterKeys[waiter.request] = nil
        waitersRemoved(from: key)
        return waiter
    }

    /// Marks an idle, new or just-released connection leased and describes the lease.
    private mutating func lend(_ id: PoolConnectionID, now: Instant) -> Lease<Connection> {
        var entry = entries[id]!
        let isReused = entry.useCount > 0
        var needsHealthCheck = false
        if case .idle(let since) = entry.state {
            needsHealthCheck = since.advanced(by: configuration.checkAfterIdle) <= now
        }
        if isReused { pools[entry.key]!.counters.reuses += 1 }
        entry.useCount += 1
        entry.state = .leased
        entries[id] = entry
        return Lease(
            connection: entry.connection!,
            connectionID: id,
            isReused: isReused,
            needsHealthCheck: needsHealthCheck,
            useCount: entry.useCount
        )
    }

    private mutating func makeIdle(_ id: PoolConnectionID, now: Instant) {
        entries[id]!.state = .idle(since: now)
        let key = entries[id]!.key
        pools[key]!.idle.append(id)
        deadlineAdded(entries[id]!.createdAt?.advanced(by: configuration.maxConnectionAge))
        // One more idle connection may bring the idle timeout to all of them (above the
        // prewarm minimum): the longest idle is due first.
        if pools[key]!.idle.count > configuration.minimumIdleConnections, let oldest = pools[key]!.idle.first,
            case .idle(let since)? = entries[oldest]?.state
        {
            deadlineAdded(since.advanced(by: configuration.idleTimeout))
        }
    }

    private mutating func deadlineAdded(_ instant: Instant?) {
        guard let instant else { return }
        if addedDeadline.map({ instant < $0 }) ?? true { addedDeadline = instant }
    }

    private mutating func close(_ id: PoolConnectionID, gracefully: Bool, actions: inout Actions) {
        var entry = entries[id]!
        if case .idle = entry.state { pools[entry.key]!.idle.removeAll { $0 == id } }
        entry.state = .closing
        entries[id] = entry
        if let connection = entry.connection {
            actions.close.append(.init(id: id, connection: connection, gracefully: gracefully))
        } else {
            // Unreachable: only idle and leased connections are closed, and both exist.
            removeEntry(id)
        }
    }

    /// A waiter of `key` has left: the pool may have none now, and may be empty.
    private mutating func waitersRemoved(from key: Key) {
        touchedPools.insert(key)
        if pools[key]?.waiters.isEmpty ?? true { poolsWithWaiters.remove(key) }
    }

    /// End of every event: forget the pools it emptied, arm the timer, report the end of
    /// shutdown.
    private mutating func finish(now: Instant, actions: inout Actions) {
        for key in touchedPools {
            guard let pool = pools[key], pool.isEmpty else { continue }
            retiredCounters.add(pool.counters)
            pools[key] = nil
            actions.retired.append(key)
        }
        touchedPools.removeAll(keepingCapacity: true)
        if phase == .shuttingDown, entries.isEmpty {
            phase = .shutDown
            actions.shutdownComplete = true
        }
        let added = addedDeadline
        addedDeadline = nil
        guard phase == .running, let next = armedTimer == nil ? nextDeadline() : added else { return }
        if armedTimer.map({ next < $0 }) ?? true {
            armedTimer = next
            actions.scheduleTimer = next
        }
    }
}
