import Synchronization

/// Warm connections per key, with limits, fair queueing, lifetimes and back-off.
///
/// A thin shell around ``PoolStateMachine``: each call applies one event to the machine
/// under a `Mutex`, takes the resulting actions out and carries them out after the lock is
/// released: it resumes waiting requests and hands connection creation, closing and timers
/// to the task group in ``run()``, which sleeps on the injected clock.
///
/// ``run()`` must be running for connections to be made and deadlines to be enforced; the
/// daemon runs it as a service and calls ``shutdown()`` on graceful shutdown. `run()`
/// returns once shutdown has closed every connection.
public final class ConnectionPool<Factory: PoolConnectionFactory, PoolClock: Clock>: Sendable
where PoolClock.Duration == Duration {
    public typealias Key = Factory.Key
    public typealias Connection = Factory.Connection
    public typealias Context = Factory.Context
    typealias Machine = PoolStateMachine<Key, Connection, PoolClock.Instant>

    private struct State: Sendable {
        var machine: Machine
        var waiting: [PoolRequestID: CheckedContinuation<Lease<Connection>, any Error>] = [:]
        /// The latest lease's context per key with a pool, for the factory.
        var contexts: [Key: Context] = [:]
        /// How to stop each creation in progress, should the machine abandon it.
        var creations: [PoolConnectionID: CreationSignal] = [:]
    }

    /// Fired when the machine abandons a creation; the creation's task waits on it beside
    /// the factory and cancels the factory's work when it fires.
    private final class CreationSignal: Sendable {
        private let state = Mutex<(fired: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

        func fire() {
            let waiter = state.withLock { state in
                state.fired = true
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }

        /// Returns when fired, or when the waiting task is cancelled.
        func wait() async {
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    let fired = state.withLock { state in
                        if !state.fired { state.waiter = continuation }
                        return state.fired
                    }
                    if fired { continuation.resume() }
                }
            } onCancel: {
                fire()
            }
        }
    }

    private enum Work: Sendable {
        case create(Machine.CreateConnection)
        case close(Machine.CloseConnection)
        case timer(PoolClock.Instant)
    }

    public let configuration: PoolConfiguration
    private let factory: Factory
    private let clock: PoolClock
    private let state: Mutex<State>
    private let nextRequestID = Atomic<Int>(0)
    private let runStarted = Atomic<Bool>(false)
    private let workStream: AsyncStream<Work>
    private let workContinuation: AsyncStream<Work>.Continuation

    public init(configuration: PoolConfiguration = PoolConfiguration(), factory: Factory, clock: PoolClock) {
        self.configuration = configuration
        self.factory = factory
        self.clock = clock
        self.state = Mutex(State(machine: Machine(configuration: configuration)))
        (self.workStream, self.workContinuation) = AsyncStream.makeStream(of: Work.self)
    }

    /// Creates, closes and times connections until shutdown has finished. Call it once.
    ///
    /// For a graceful stop call ``shutdown()`` and let `run()` return. Cancelling `run()`
    /// instead is a hard stop: waiting requests fail, but connections still open are
    /// dropped without their factory `close`, and leases still out release into nothing.
    public func run() async {
        precondition(!runStarted.exchange(true, ordering: .relaxed), "ConnectionPool.run() called twice")
        await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                for await work in workStream {
                    switch work {
                    case .create(let request):
                        group.addTask { await self.create(request) }
                    case .close(let request):
                        group.addTask { await self.close(request) }
                    case .timer(let instant):
                        group.addTask {
                            try? await self.clock.sleep(until: instant, tolerance: nil)
                            guard !Task.isCancelled else { return }
                            self.apply { machine, now in machine.timerFired(now: now) }
                        }
                    }
                }
                group.cancelAll()  // only timers are left
            }
        } onCancel: {
            self.shutdown()
        }
    }

    /// Lends a connection for `key` to `body` and takes it back when `body` returns.
    ///
    /// `body` returns its result and what to do with the connection: `.reuse` if it is
    /// healthy and clean, `.discard` if its state is doubtful. If `body` throws, the
    /// connection is discarded. Do not keep the connection beyond `body`.
    ///
    /// - Parameters:
    ///   - key: The pool; a connection made for one key never serves another.
    ///   - context: What the factory needs to make a connection for `key` (the pool keeps
    ///     the latest while the key has a pool).
    ///   - label: Non-secret name of the pool in stats.
    ///   - groups: The share groups of `key`'s pool (taken when its pool is made): its
    ///     connections count against each group's limit.
    ///   - deadline: The request's own deadline: wait no longer than this for a connection,
    ///     then fail with ``ConnectionPoolError/Code/deadlineExceeded``. The pool's
    ///     `configuration.maxWait` caps the wait too, failing with
    ///     ``ConnectionPoolError/Code/busy`` (or `connectionNotReady`). A connection being made for a request that gave
    ///     up is abandoned (its creation is cancelled), not kept.
    ///   - requireFresh: Only a newly made connection will do (retry after a reused one failed).
    ///   - isolation: Where `body` runs: the caller's actor, if any.
    /// - Throws: ``ConnectionPoolError``, `CancellationError`, the factory's error if the
    ///   connection made for this request failed, or `body`'s error.
    public func withConnection<Value>(
        key: Key,
        context: Context,
        label: String,
        groups: [PoolShareGroup] = [],
        deadline: PoolClock.Instant? = nil,
        requireFresh: Bool = false,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (Lease<Connection>) async throws -> (Value, ReleaseDisposition)
    ) async throws -> Value {
        let lease = try await lease(
            key: key, context: context, label: label, groups: groups, deadline: deadline, requireFresh: requireFresh)
        let outcome: (Value, ReleaseDisposition)
        do {
            outcome = try await body(lease)
        } catch {
            release(lease.connectionID, disposition: .discard)
            throw error
        }
        release(lease.connectionID, disposition: outcome.1)
        return outcome.0
    }

    /// The server asked for fewer connections: lower this pool's cap until `until`.
    /// Call it after releasing the refused connection (or after its creation failed).
    public func backOff(key: Key, until: PoolClock.Instant) {
        apply { machine, now in machine.backOff(key: key, until: until, now: now) }
    }

    /// Stops lending: waiting requests fail with `shutting_down`, idle connections close
    /// gracefully, leased ones close when released; then ``run()`` returns.
    public func shutdown() {
        apply { machine, now in machine.shutdown(now: now) }
    }

    /// How many keys' contexts the pool holds (tests: they go with their pools).
    var storedContextCount: Int {
        state.withLock { $0.contexts.count }
    }

    /// Figures for every pool and totals.
    public func snapshot() -> PoolSnapshot {
        state.withLock { state in state.machine.snapshot(now: clock.now) }
    }

    // MARK: - Internals

    private func lease(
        key: Key,
        context: Context,
        label: String,
        groups: [PoolShareGroup],
        deadline: PoolClock.Instant?,
        requireFresh: Bool
    ) async throws -> Lease<Connection> {
        try Task.checkCancellation()
        let request = PoolRequestID(nextRequestID.wrappingAdd(1, ordering: .relaxed).oldValue)
        // A warm connection is handed over without suspending (most sends).
        if !requireFresh,
            let lease = apply(claiming: request, storing: (key, context), { machine, now in
                machine.leaseIdle(request, key: key, label: label, now: now) ?? Machine.Actions()
            })
        {
            return lease
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                apply(registering: (request, continuation), storing: (key, context)) { machine, now in
                    machine.lease(
                        request,
                        key: key,
                        label: label,
                        groups: groups,
                        requireFresh: requireFresh,
                        deadline: deadline,
                        now: now
                    )
                }
                // Cancelled between the check above and registration: the handler found nothing.
                if Task.isCancelled {
                    apply { machine, now in machine.cancel(request, now: now) }
                }
            }
        } onCancel: {
            apply { machine, now in machine.cancel(request, now: now) }
        }
    }

    private func release(_ id: PoolConnectionID, disposition: ReleaseDisposition) {
        apply { machine, now in machine.release(id, disposition: disposition, now: now) }
    }

    /// Makes a connection with the factory, and cancels the factory's work if the machine
    /// abandons the creation first (or ``run()`` is cancelled).
    private func create(_ request: Machine.CreateConnection) async {
        let signal = state.withLock { $0.creations[request.id] }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.make(request) }
            if let signal { group.addTask { await signal.wait() } }
            _ = await group.next()
            group.cancelAll()
        }
        state.withLock { _ = $0.creations.removeValue(forKey: request.id) }
    }

    private func make(_ request: Machine.CreateConnection) async {
        do {
            // Stored by the lease that made the pool; gone only with the pool, which has
            // this connection in creation.
            guard let context = state.withLock({ $0.contexts[request.key] }) else {
                throw ConnectionPoolError(.missingContext)
            }
            let connection = try await factory.makeConnection(for: request.key, context: context)
            apply { machine, now in machine.connectionCreated(request.id, connection: connection, now: now) }
        } catch {
            apply(creationError: error) { machine, now in machine.connectionCreationFailed(request.id, now: now) }
        }
    }

    private func close(_ request: Machine.CloseConnection) async {
        await factory.close(request.connection, gracefully: request.gracefully)
        apply { machine, now in machine.connectionClosed(request.id, now: now) }
    }

    /// Applies an event and carries out its actions. A grant for `claimed` (a request with no
    /// continuation, leased without waiting) is returned instead of resumed. `stored`, a
    /// lease's key and context, is kept before the event, and retired keys' contexts (or
    /// this lease's, when its key has no pool after the event) are dropped after it, under
    /// the same lock, so a lease never finds its context gone.
    @discardableResult
    private func apply(
        registering registration: (PoolRequestID, CheckedContinuation<Lease<Connection>, any Error>)? = nil,
        claiming claimed: PoolRequestID? = nil,
        storing stored: (Key, Context)? = nil,
        creationError: (any Error)? = nil,
        _ event: (inout Machine, PoolClock.Instant) -> Machine.Actions
    ) -> Lease<Connection>? {
        typealias Continuation = CheckedContinuation<Lease<Connection>, any Error>
        let (actions, grants, rejections, orphans, claimedLease, abandoned) = state.withLock { state in
            if let (request, continuation) = registration { state.waiting[request] = continuation }
            if let (key, context) = stored { state.contexts[key] = context }
            let actions = event(&state.machine, clock.now)
            // Registered under the lock, before the creation task can exist, so that an
            // abandonment always finds its signal.
            for request in actions.create { state.creations[request.id] = CreationSignal() }
            let abandoned = actions.cancelCreation.compactMap { state.creations[$0] }
            for key in actions.retired { state.contexts[key] = nil }
            // A lease that made no pool (refused during shutdown) leaves nothing behind.
            if let (key, _) = stored, state.machine.pools[key] == nil { state.contexts[key] = nil }
            var grants: [(Continuation, Lease<Connection>)] = []
            var orphans: [PoolConnectionID] = []
            var claimedLease: Lease<Connection>?
            for grant in actions.grant {
                if grant.request == claimed {
                    claimedLease = grant.lease
                } else if let continuation = state.waiting.removeValue(forKey: grant.request) {
                    grants.append((continuation, grant.lease))
                } else {
                    orphans.append(grant.lease.connectionID)  // cannot happen; never leak a lease
                }
            }
            var rejections: [(Continuation, Machine.Failure)] = []
            for rejection in actions.reject {
                if let continuation = state.waiting.removeValue(forKey: rejection.request) {
                    rejections.append((continuation, rejection.failure))
                }
            }
            return (actions, grants, rejections, orphans, claimedLease, abandoned)
        }
        for signal in abandoned { signal.fire() }
        for (continuation, lease) in grants { continuation.resume(returning: lease) }
        for (continuation, failure) in rejections {
            continuation.resume(throwing: error(for: failure, creationError: creationError))
        }
        for request in actions.create { workContinuation.yield(.create(request)) }
        for request in actions.close { workContinuation.yield(.close(request)) }
        if let instant = actions.scheduleTimer { workContinuation.yield(.timer(instant)) }
        if actions.shutdownComplete { workContinuation.finish() }
        for id in orphans { release(id, disposition: .reuse) }
        return claimedLease
    }

    private func error(for failure: Machine.Failure, creationError: (any Error)?) -> any Error {
        switch failure {
        case .busy: ConnectionPoolError(.busy)
        case .connectionNotReady: ConnectionPoolError(.connectionNotReady)
        case .deadlineExceeded: ConnectionPoolError(.deadlineExceeded)
        case .shuttingDown: ConnectionPoolError(.shuttingDown)
        case .cancelled: CancellationError()
        case .connectionFailed: creationError ?? ConnectionPoolError(.missingContext)
        }
    }
}

extension ConnectionPool where PoolClock == ContinuousClock {
    /// A pool on the continuous clock.
    public convenience init(configuration: PoolConfiguration = PoolConfiguration(), factory: Factory) {
        self.init(configuration: configuration, factory: factory, clock: ContinuousClock())
    }
}
