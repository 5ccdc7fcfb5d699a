import Synchronization
import Testing

import SidecarTestSupport
@testable import SidecarPool

private func configuration(_ change: (inout PoolConfiguration) -> Void = { _ in }) -> PoolConfiguration {
    var configuration = PoolConfiguration()
    configuration.maxConnectionsPerPool = 2
    configuration.maxWait = .seconds(10)
    change(&configuration)
    return configuration
}

/// Runs `body` with a running pool, then shuts it down and waits for `run()` to return.
private func withPool<PoolClock: Clock, Result: Sendable>(
    _ configuration: PoolConfiguration,
    factory: MockConnectionFactory,
    clock: PoolClock,
    _ body: @Sendable (ConnectionPool<MockConnectionFactory, PoolClock>) async throws -> Result
) async throws -> Result where PoolClock.Duration == Duration {
    let pool = ConnectionPool(configuration: configuration, factory: factory, clock: clock)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await pool.run() }
        do {
            let result = try await body(pool)
            pool.shutdown()
            try await group.waitForAll()
            return result
        } catch {
            pool.shutdown()
            try await group.waitForAll()
            throw error
        }
    }
}

/// Waits (on the real clock) until `condition` holds. The bound only guards against a hang:
/// on a loaded 2-core CI machine, with every suite running in parallel, the pool's tasks
/// can wait seconds for a thread, so it is generous.
private func eventually(_ condition: () -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let giveUp = ContinuousClock.now + .seconds(60)
    while !condition() {
        guard ContinuousClock.now < giveUp else {
            Issue.record("condition never became true", sourceLocation: sourceLocation)
            return
        }
        try await Task.sleep(for: .milliseconds(1))
    }
}

/// A one-shot signal a test holds a lease on.
private final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let open = state.withLock { state in
                if !state.open { state.waiters.append(continuation) }
                return state.open
            }
            if open { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// How many tasks are inside a section at once, and the most there ever were.
private final class ConcurrencyGauge: Sendable {
    private let state = Mutex<(current: Int, maximum: Int)>((0, 0))

    var maximum: Int { state.withLock { $0.maximum } }

    func enter() {
        state.withLock { state in
            state.current += 1
            state.maximum = max(state.maximum, state.current)
        }
    }

    func leave() { state.withLock { $0.current -= 1 } }
}

@Suite struct ConnectionPoolTests {
    @Test func sequentialCallsReuseOneConnectionAndShutdownClosesItGracefully() async throws {
        let factory = MockConnectionFactory()
        let leases = try await withPool(configuration(), factory: factory, clock: ContinuousClock()) { pool in
            var leases: [Lease<MockConnection>] = []
            for _ in 0..<3 {
                leases.append(try await pool.withConnection(key: "a", label: "a") { lease in (lease, .reuse) })
            }
            #expect(pool.snapshot().totals.reuses == 2)
            return leases
        }
        #expect(leases.map(\.isReused) == [false, true, true])
        #expect(leases.map(\.useCount) == [1, 2, 3])
        #expect(Set(leases.map(\.connection)).count == 1)
        #expect(factory.made == 1)
        #expect(factory.closes == [.init(connection: leases[0].connection, gracefully: true)])
    }

    @Test func aThrowingBodyDiscardsTheConnection() async throws {
        struct BodyFailed: Error {}
        let factory = MockConnectionFactory()
        try await withPool(configuration(), factory: factory, clock: ContinuousClock()) { pool in
            await #expect(throws: BodyFailed.self) {
                try await pool.withConnection(key: "a", label: "a") { _ -> (Int, ReleaseDisposition) in throw BodyFailed() }
            }
            try await eventually { factory.closes.count == 1 }
            #expect(factory.closes.first?.gracefully == false)
            let lease = try await pool.withConnection(key: "a", label: "a") { lease in (lease, .discard) }
            #expect(!lease.isReused)
            #expect(factory.made == 2)
            #expect(pool.snapshot().totals.discards == 2)
        }
    }

    @Test func creationFailureReachesTheCallerWithTheFactoryError() async throws {
        let factory = MockConnectionFactory()
        factory.failNextCreations(1)
        try await withPool(configuration(), factory: factory, clock: ContinuousClock()) { pool in
            await #expect(throws: InjectedFailure()) {
                try await pool.withConnection(key: "a", label: "a") { _ in ((), .reuse) }
            }
            try await pool.withConnection(key: "a", label: "a") { _ in ((), .reuse) }
            #expect(pool.snapshot().totals.creationFailures == 1)
            #expect(pool.snapshot().totals.connectionsCreated == 1)
        }
    }

    @Test(arguments: [1, 3])
    func manyConcurrentCallsAllCompleteWithinTheCap(cap: Int) async throws {
        let factory = MockConnectionFactory(creationDelay: .milliseconds(3))
        let config = configuration { $0.maxConnectionsPerPool = cap; $0.maxWait = .seconds(60) }
        let inBody = ConcurrencyGauge()
        let completed = try await withPool(config, factory: factory, clock: ContinuousClock()) { pool in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<60 {
                    group.addTask {
                        try await pool.withConnection(key: "a", label: "a") { _ in
                            inBody.enter()
                            try await Task.sleep(for: .milliseconds(1))
                            inBody.leave()
                            return (index, .reuse)
                        }
                    }
                }
                return try await group.reduce(into: Set<Int>()) { $0.insert($1) }
            }
        }
        #expect(completed == Set(0..<60))
        #expect(factory.maxOpen <= cap)
        #expect(inBody.maximum <= cap)
        #expect(inBody.maximum >= 1)
        #expect(factory.open == 0)
    }

    @Test func concurrentCallsOverManyKeysRespectBothLimits() async throws {
        let factory = MockConnectionFactory(creationDelay: .milliseconds(2))
        let config = configuration { $0.maxConnectionsPerPool = 2; $0.maxConnectionsTotal = 3; $0.maxWait = .seconds(60) }
        let count = try await withPool(config, factory: factory, clock: ContinuousClock()) { pool in
            try await withThrowingTaskGroup(of: MockConnection.self) { group in
                for index in 0..<60 {
                    let key = "key-\(index % 4)"
                    group.addTask {
                        try await pool.withConnection(key: key, label: key) { lease in
                            #expect(lease.connection.key == key)
                            try await Task.sleep(for: .milliseconds(1))
                            return (lease.connection, .reuse)
                        }
                    }
                }
                return try await group.reduce(0) { count, _ in count + 1 }
            }
        }
        #expect(count == 60)
        #expect(factory.maxOpen <= 3)
        #expect(factory.maxOpenPerKey <= 2)
    }

    @Test func waitingPastTheLimitFailsWithPoolBusy() async throws {
        let clock = MockClock()
        let factory = MockConnectionFactory()
        let gate = Gate()
        try await withPool(configuration { $0.maxConnectionsPerPool = 1 }, factory: factory, clock: clock) { pool in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await pool.withConnection(key: "a", label: "a") { _ in await gate.wait(); return ((), .reuse) } }
                try await eventually { pool.snapshot().totals.leased == 1 }
                group.addTask {
                    let error = await #expect(throws: ConnectionPoolError.self) {
                        try await pool.withConnection(key: "a", label: "a") { _ in ((), .reuse) }
                    }
                    #expect(error?.code == .busy)
                }
                try await eventually { pool.snapshot().totals.waiting == 1 && clock.nextSleeperDeadline == .seconds(10) }
                clock.advance(by: .seconds(9))
                try await Task.sleep(for: .milliseconds(20))
                #expect(pool.snapshot().totals.waiting == 1)
                clock.advance(by: .seconds(1))
                try await eventually { pool.snapshot().totals.timeouts == 1 }
                #expect(pool.snapshot().totals.waiting == 0)
                gate.open()
                try await group.waitForAll()
            }
        }
    }

    @Test func aCancelledWaiterLeavesTheQueueAtOnce() async throws {
        let factory = MockConnectionFactory()
        let gate = Gate()
        try await withPool(configuration { $0.maxConnectionsPerPool = 1 }, factory: factory, clock: ContinuousClock()) { pool in
            let holder = Task { try await pool.withConnection(key: "a", label: "a") { _ in await gate.wait(); return ((), .reuse) } }
            try await eventually { pool.snapshot().totals.leased == 1 }
            let waiter = Task { try await pool.withConnection(key: "a", label: "a") { _ in ((), .reuse) } }
            try await eventually { pool.snapshot().totals.waiting == 1 }
            waiter.cancel()
            await #expect(throws: CancellationError.self) { try await waiter.value }
            #expect(pool.snapshot().totals.waiting == 0)
            #expect(pool.snapshot().totals.cancellations == 1)
            gate.open()
            try await holder.value
        }
    }

    @Test func shutdownFailsWaitersClosesIdleLetsLeasesFinishThenReturns() async throws {
        let factory = MockConnectionFactory()
        let gate = Gate()
        let pool = ConnectionPool(configuration: configuration { $0.maxConnectionsPerPool = 1 }, factory: factory, clock: ContinuousClock())
        let runner = Task { await pool.run() }
        let idle = try await pool.withConnection(key: "b", label: "b") { lease in (lease.connection, .reuse) }
        let holder = Task { try await pool.withConnection(key: "a", label: "a") { lease in await gate.wait(); return (lease.connection, .reuse) } }
        try await eventually { pool.snapshot().totals.leased == 1 }
        let waiter = Task { try await pool.withConnection(key: "a", label: "a") { _ in ((), .reuse) } }
        try await eventually { pool.snapshot().totals.waiting == 1 }

        pool.shutdown()
        let waiterError = await #expect(throws: ConnectionPoolError.self) { try await waiter.value }
        #expect(waiterError?.code == .shuttingDown)
        try await eventually { factory.closes == [.init(connection: idle, gracefully: true)] }
        let lateError = await #expect(throws: ConnectionPoolError.self) {
            try await pool.withConnection(key: "c", label: "c") { _ in ((), .reuse) }
        }
        #expect(lateError?.code == .shuttingDown)
        // The refused lease's context is not kept; only the leased pool's ("b" goes once closed).
        try await eventually { pool.storedContextCount == 1 }
        #expect(pool.snapshot().totals.leased == 1)  // still working

        gate.open()
        let leased = try await holder.value  // the leased one finished its work
        await runner.value  // and run() returns once it is closed
        #expect(factory.closes.last == .init(connection: leased, gracefully: true))
        #expect(factory.open == 0)
    }

    @Test func idleConnectionIsClosedAfterTheIdleTimeout() async throws {
        let clock = MockClock()
        let factory = MockConnectionFactory()
        try await withPool(configuration { $0.idleTimeout = .seconds(30) }, factory: factory, clock: clock) { pool in
            try await pool.withConnection(key: "a", label: "a") { _ in ((), .reuse) }
            // The wait timer armed for the first request fires first and re-arms for the idle timeout.
            try await eventually { clock.nextSleeperDeadline == .seconds(10) }
            clock.advance(by: .seconds(10))
            try await eventually { clock.nextSleeperDeadline == .seconds(30) }
            #expect(factory.closes.isEmpty)
            clock.advance(by: .seconds(20))
            try await eventually { factory.closes.count == 1 }
            #expect(factory.closes.first?.gracefully == true)
            #expect(pool.snapshot().totals.expired == 1)
        }
    }

    /// Each creation gets its key's context from the latest lease, and the pool keeps a
    /// key's context (for SMTP the configuration with the password) only while the key has
    /// a pool: once its last connection has expired, it is gone.
    @Test func contextsReachTheFactoryAndGoWithTheirPool() async throws {
        let clock = MockClock()
        let factory = MockConnectionFactory()
        try await withPool(configuration { $0.idleTimeout = .seconds(30) }, factory: factory, clock: clock) { pool in
            try await pool.withConnection(key: "a", context: "first", label: "a") { _ in ((), .discard) }
            try await pool.withConnection(key: "a", context: "second", label: "a") { _ in ((), .reuse) }
            try await pool.withConnection(key: "b", label: "b") { _ in ((), .reuse) }
            #expect(factory.contexts == ["first", "second", "context-b"])
            #expect(pool.storedContextCount == 2)
            try await eventually { clock.nextSleeperDeadline == .seconds(10) }
            clock.advance(by: .seconds(10))
            try await eventually { clock.nextSleeperDeadline == .seconds(30) }
            clock.advance(by: .seconds(20))
            try await eventually { factory.closes.count == 3 && pool.snapshot().pools.isEmpty }
            #expect(pool.storedContextCount == 0)
        }
    }

    @Test func reusedConnectionAfterIdlingNeedsAHealthCheckAndRequireFreshGetsANewOne() async throws {
        let clock = MockClock()
        let factory = MockConnectionFactory()
        try await withPool(configuration { $0.checkAfterIdle = .seconds(5) }, factory: factory, clock: clock) { pool in
            let first = try await pool.withConnection(key: "a", label: "a") { lease in (lease, .reuse) }
            let soon = try await pool.withConnection(key: "a", label: "a") { lease in (lease, .reuse) }
            clock.advance(by: .seconds(6))
            let later = try await pool.withConnection(key: "a", label: "a") { lease in (lease, .reuse) }
            let fresh = try await pool.withConnection(key: "a", label: "a", requireFresh: true) { lease in (lease, .reuse) }
            #expect([first.needsHealthCheck, soon.needsHealthCheck, later.needsHealthCheck] == [false, false, true])
            #expect(later.connection == first.connection)
            #expect(!fresh.isReused)
            #expect(fresh.connection != first.connection)
            #expect(factory.made == 2)
        }
    }

    @Test func slowCreationDoesNotBlockOtherKeys() async throws {
        let factory = MockConnectionFactory()
        try await withPool(configuration(), factory: factory, clock: ContinuousClock()) { pool in
            try await pool.withConnection(key: "fast", label: "fast") { _ in ((), .reuse) }
            factory.holdCreations()
            let slow = Task { try await pool.withConnection(key: "slow", label: "slow") { lease in (lease.connection, .reuse) } }
            try await eventually { factory.heldCreationCount == 1 }
            // Another key with an idle connection is served while "slow" is still connecting.
            try await pool.withConnection(key: "fast", label: "fast") { lease in
                #expect(lease.isReused)
                return ((), .reuse)
            }
            #expect(pool.snapshot().pools.first { $0.label == "slow" }?.creating == 1)
            factory.releaseHeldCreations()
            #expect(try await slow.value.key == "slow")
        }
    }

    @Test func aRequestsDeadlineFailsItWithRequestTimeoutAndCancelsItsConnectionAttempt() async throws {
        let factory = MockConnectionFactory()
        factory.stallCreations()
        let clock = MockClock()
        try await withPool(configuration { $0.maxConnectionsPerPool = 1 }, factory: factory, clock: clock) { pool in
            let request = Task {
                try await pool.withConnection(key: "a", label: "a", deadline: clock.now.advanced(by: .seconds(1))) { _ in
                    ((), .reuse)
                }
            }
            try await eventually { factory.stalledCreations == 1 && clock.nextSleeperDeadline == .seconds(1) }
            clock.advance(by: .seconds(1))
            let error = await #expect(throws: ConnectionPoolError.self) { try await request.value }
            #expect(error?.code == .deadlineExceeded)
            // The attempt is cancelled, not left to the server, and its slot is free again.
            try await eventually { factory.cancelledCreations == 1 && pool.snapshot().totals.open == 0 }
            #expect(pool.snapshot().totals.abandoned == 1)
        }
    }

    @Test func backOffHoldsWaitersWithinTheLowerCap() async throws {
        let factory = MockConnectionFactory()
        let clock = MockClock()
        let gate = Gate()
        try await withPool(configuration { $0.maxConnectionsPerPool = 2 }, factory: factory, clock: clock) { pool in
            let holder = Task { try await pool.withConnection(key: "a", label: "a") { _ in await gate.wait(); return ((), .reuse) } }
            try await eventually { pool.snapshot().totals.leased == 1 }
            pool.backOff(key: "a", until: .seconds(60))
            #expect(pool.snapshot().pools.first?.cap == 1)
            let waiter = Task { try await pool.withConnection(key: "a", label: "a") { lease in (lease.isReused, .reuse) } }
            try await eventually { pool.snapshot().totals.waiting == 1 }
            #expect(factory.made == 1)  // no second connection while backed off
            gate.open()
            try await holder.value
            #expect(try await waiter.value == true)
            #expect(pool.snapshot().totals.backoffs == 1)
        }
    }

    @Test func bodyRunsOnTheCallersActor() async throws {
        actor Sender {
            var sent = 0
            func send(with pool: ConnectionPool<MockConnectionFactory, ContinuousClock>) async throws {
                try await pool.withConnection(key: "a", label: "a") { _ in
                    sent += 1  // actor state, no hop needed: the body runs on this actor
                    return ((), .reuse)
                }
            }
        }
        let sender = Sender()
        try await withPool(configuration(), factory: MockConnectionFactory(), clock: ContinuousClock()) { pool in
            try await sender.send(with: pool)
            try await sender.send(with: pool)
        }
        #expect(await sender.sent == 2)
    }
}
