import Testing

import SidecarTestSupport
@testable import SidecarPool

typealias TestMachine = PoolStateMachine<String, Int, MockClock.Instant>

private func t(_ seconds: Double) -> MockClock.Instant { .seconds(seconds) }
private func req(_ value: Int) -> PoolRequestID { PoolRequestID(value) }
private func conn(_ value: Int) -> PoolConnectionID { PoolConnectionID(value) }

private func configuration(_ change: (inout PoolConfiguration) -> Void = { _ in }) -> PoolConfiguration {
    var configuration = PoolConfiguration()
    configuration.maxConnectionsPerPool = 2
    configuration.maxConnectionsTotal = 10
    configuration.maxWait = .seconds(10)
    change(&configuration)
    return configuration
}

extension TestMachine {
    /// Leases for `key` with the default deadline (now + 10 s).
    mutating func lease(_ request: Int, _ key: String = "a", fresh: Bool = false, at now: Double = 0) -> Actions {
        lease(req(request), key: key, label: "label-\(key)", requireFresh: fresh, deadline: t(now + 100), now: t(now))
    }

    /// Leases, creates the connection the machine asks for, and returns the lease.
    mutating func leaseNew(_ request: Int, _ key: String = "a", at now: Double = 0) -> Lease<Int> {
        let create = lease(request, key, at: now).create
        #expect(create.count == 1)
        let granted = connectionCreated(create[0].id, connection: create[0].id.rawValue, now: t(now)).grant
        #expect(granted.map(\.request) == [req(request)])
        return granted[0].lease
    }

    func stats(_ key: String) -> PoolStats? {
        snapshot(now: t(0)).pools.first { $0.label == "label-\(key)" }
    }
}

@Suite struct PoolStateMachineTests {
    // MARK: Creation, reuse, discard

    @Test func firstLeaseCreatesAFreshConnection() {
        var machine = TestMachine(configuration: configuration())
        let actions = machine.lease(1)
        #expect(actions.create == [.init(id: conn(0), key: "a")])
        #expect(actions.grant.isEmpty)
        let created = machine.connectionCreated(conn(0), connection: 0, now: t(1))
        #expect(
            created.grant == [
                .init(
                    request: req(1),
                    lease: Lease(connection: 0, connectionID: conn(0), isReused: false, needsHealthCheck: false, useCount: 1)
                )
            ])
        #expect(machine.stats("a")?.leased == 1)
        #expect(machine.stats("a")?.connectionsCreated == 1)
    }

    @Test func releasedWithReuseServesTheNextLeaseWithoutCreating() {
        var machine = TestMachine(configuration: configuration())
        let first = machine.leaseNew(1)
        #expect(machine.release(first.connectionID, disposition: .reuse, now: t(1)).close.isEmpty)
        #expect(machine.stats("a")?.idle == 1)
        let second = machine.lease(2, at: 2)
        #expect(second.create.isEmpty)
        #expect(second.grant.map(\.lease) == [Lease(connection: 0, connectionID: conn(0), isReused: true, needsHealthCheck: false, useCount: 2)])
        #expect(machine.stats("a")?.reuses == 1)
    }

    /// leaseIdle, the shell's way to hand a warm connection over without suspending, grants
    /// exactly what lease would when an idle connection serves at once, and otherwise
    /// answers nil and changes nothing.
    @Test func leaseIdleGrantsAWarmConnectionOrChangesNothing() {
        var machine = TestMachine(configuration: configuration { $0.idleTimeout = .seconds(30); $0.maxUsesPerConnection = 3 })
        #expect(machine.leaseIdle(req(1), key: "a", label: "label-a", now: t(0)) == nil, "no pool yet")
        #expect(machine.stats("a") == nil, "and none made")
        let first = machine.leaseNew(2)
        #expect(machine.leaseIdle(req(3), key: "a", label: "label-a", now: t(1)) == nil, "the only connection is leased")
        _ = machine.release(first.connectionID, disposition: .reuse, now: t(1))

        var twin = machine
        let granted = machine.leaseIdle(req(4), key: "a", label: "label-a", now: t(2))
        #expect(granted == twin.lease(4, at: 2), "the same actions as lease")
        #expect(granted?.grant.map(\.lease) == [Lease(connection: 0, connectionID: conn(0), isReused: true, needsHealthCheck: false, useCount: 2)])
        _ = machine.release(conn(0), disposition: .reuse, now: t(2))

        // Idle past the timeout, or used up: nil, and the connection is still there for
        // lease to close.
        var idleTooLong = machine
        #expect(idleTooLong.leaseIdle(req(5), key: "a", label: "label-a", now: t(40)) == nil)
        #expect(idleTooLong.snapshot(now: t(40)) == machine.snapshot(now: t(40)))
        #expect(idleTooLong.lease(5, at: 40).close.map(\.id) == [conn(0)])
        _ = machine.release(machine.lease(6, at: 3).grant[0].lease.connectionID, disposition: .reuse, now: t(3))
        #expect(machine.leaseIdle(req(7), key: "a", label: "label-a", now: t(4)) == nil, "three uses made")

        // Shutting down: nil.
        _ = machine.shutdown(now: t(5))
        #expect(machine.leaseIdle(req(8), key: "a", label: "label-a", now: t(5)) == nil)
    }

    @Test func retiredConnectionIsClosedGracefullyAndNeverLentAgain() {
        var machine = TestMachine(configuration: configuration())
        let first = machine.leaseNew(1)
        let released = machine.release(first.connectionID, disposition: .retire, now: t(1))
        // Healthy: QUIT, not a dropped socket.
        #expect(released.close == [.init(id: conn(0), connection: 0, gracefully: true)])
        #expect(machine.stats("a")?.discards == 0)
        // Never lent again: the next request gets a new connection.
        let next = machine.lease(2, at: 2)
        #expect(next.grant.isEmpty)
        #expect(next.create == [.init(id: conn(1), key: "a")])
    }

    @Test func discardedConnectionIsClosedAtOnceAndNeverLentAgain() {
        var machine = TestMachine(configuration: configuration())
        let first = machine.leaseNew(1)
        let released = machine.release(first.connectionID, disposition: .discard, now: t(1))
        #expect(released.close == [.init(id: conn(0), connection: 0, gracefully: false)])
        // Closing still counts against the limits until the factory reports it closed.
        #expect(machine.stats("a")?.closing == 1)
        let next = machine.lease(2, at: 2)
        #expect(next.grant.isEmpty)
        #expect(next.create == [.init(id: conn(1), key: "a")])
        #expect(machine.stats("a")?.discards == 1)
        _ = machine.connectionClosed(conn(0), now: t(3))
        #expect(machine.stats("a")?.open == 1)
    }

    // MARK: Limits and fairness

    @Test func perPoolLimitQueuesTheRest() {
        var machine = TestMachine(configuration: configuration { $0.maxConnectionsPerPool = 2 })
        #expect(machine.lease(1).create.count == 1)
        #expect(machine.lease(2).create.count == 1)
        let third = machine.lease(3)
        #expect(third.create.isEmpty && third.grant.isEmpty && third.reject.isEmpty)
        #expect(machine.stats("a")?.open == 2)
        #expect(machine.stats("a")?.waiting == 3)
        // Another pool is not affected by this pool's limit.
        #expect(machine.lease(4, "b").create.count == 1)
    }

    @Test func overallLimitQueuesAndEvictsAnotherPoolsIdleConnection() {
        var machine = TestMachine(configuration: configuration { $0.maxConnectionsTotal = 2 })
        let a1 = machine.leaseNew(1, "a")
        let a2 = machine.leaseNew(2, "a")
        let b = machine.lease(3, "b")
        #expect(b.create.isEmpty && b.grant.isEmpty)
        #expect(machine.snapshot(now: t(0)).totals.open == 2)
        // a1 goes idle: nobody in "a" needs it, "b" needs room, so the idle one is closed.
        let released = machine.release(a1.connectionID, disposition: .reuse, now: t(1))
        #expect(released.close == [.init(id: a1.connectionID, connection: 0, gracefully: true)])
        #expect(released.create.isEmpty)
        let closed = machine.connectionClosed(a1.connectionID, now: t(2))
        #expect(closed.create == [.init(id: conn(2), key: "b")])
        #expect(machine.stats("a")?.evicted == 1)
        _ = a2
    }

    @Test func waitersAreServedFirstInFirstOut() {
        var machine = TestMachine(configuration: configuration { $0.maxConnectionsPerPool = 1 })
        let lease = machine.leaseNew(1)
        for request in 2...5 { #expect(machine.lease(request).grant.isEmpty) }
        var order: [PoolRequestID] = []
        var current = lease
        for step in 0..<4 {
            let next = machine.release(current.connectionID, disposition: .reuse, now: t(Double(step + 1)))
            #expect(next.grant.count == 1)
            order.append(next.grant[0].request)
            current = next.grant[0].lease
        }
        #expect(order == [req(2), req(3), req(4), req(5)])
        #expect(current.useCount == 5)
    }

    @Test func aCancelledWaiterLeavesTheQueueAtOnce() {
        var machine = TestMachine(configuration: configuration { $0.maxConnectionsPerPool = 1 })
        let lease = machine.leaseNew(1)
        _ = machine.lease(2)
        _ = machine.lease(3)
        #expect(machine.cancel(req(2), now: t(1)).reject == [.init(request: req(2), failure: .cancelled)])
        #expect(machine.stats("a")?.waiting == 1)
        #expect(machine.stats("a")?.cancellations == 1)
        #expect(machine.cancel(req(2), now: t(1)).reject.isEmpty)  // twice is harmless
        let next = machine.release(lease.connectionID, disposition: .reuse, now: t(2))
        #expect(next.grant.map(\.request) == [req(3)])
    }

    @Test func waitingPastTheRequestsDeadlineFailsWithDeadlineExceeded() {
        var machine = TestMachine(configuration: configuration { $0.maxConnectionsPerPool = 1 })
        _ = machine.leaseNew(1)
        let waiting = machine.lease(req(2), key: "a", label: "label-a", requireFresh: false, deadline: t(4), now: t(0))
        #expect(waiting.scheduleTimer == t(4))
        #expect(machine.nextDeadline() == t(4))
        #expect(machine.timerFired(now: t(3.9)).reject.isEmpty)
        #expect(machine.timerFired(now: t(4)).reject == [.init(request: req(2), failure: .deadlineExceeded)])
        #expect(machine.stats("a")?.waiting == 0)
        #expect(machine.stats("a")?.timeouts == 1)
    }

    @Test func waitIsCappedByMaxWaitAndAPastDeadlineFailsAtOnce() {
        var machine = TestMachine(configuration: configuration { $0.maxConnectionsPerPool = 1; $0.maxWait = .seconds(2) })
        _ = machine.leaseNew(1)
        let waiting = machine.lease(req(2), key: "a", label: "label-a", requireFresh: false, deadline: t(60), now: t(0))
        #expect(machine.nextDeadline() == t(2))
        _ = waiting
        let late = machine.lease(req(3), key: "a", label: "label-a", requireFresh: false, deadline: t(0), now: t(0))
        #expect(late.reject == [.init(request: req(3), failure: .deadlineExceeded)])
        // The pool's own limit passing is `busy`.
        #expect(machine.timerFired(now: t(2)).reject == [.init(request: req(2), failure: .busy)])
    }

    // MARK: Lifetimes

    @Test func idleConnectionExpiresAfterIdleTimeout() {
        var machine = TestMachine(configuration: configuration { $0.idleTimeout = .seconds(30) })
        let lease = machine.leaseNew(1)
        let released = machine.release(lease.connectionID, disposition: .reuse, now: t(10))
        #expect(released.close.isEmpty)
        #expect(machine.nextDeadline() == t(40))
        #expect(machine.timerFired(now: t(39)).close.isEmpty)
        #expect(machine.timerFired(now: t(40)).close == [.init(id: conn(0), connection: 0, gracefully: true)])
        #expect(machine.stats("a")?.expired == 1)
        _ = machine.connectionClosed(conn(0), now: t(41))
        #expect(machine.stats("a") == nil)  // empty pools are forgotten
        #expect(machine.snapshot(now: t(41)).totals.expired == 1)  // but their counters are kept
    }

    @Test func connectionOlderThanMaxAgeIsNotReused() {
        var machine = TestMachine(configuration: configuration { $0.maxConnectionAge = .seconds(300); $0.idleTimeout = .seconds(1000) })
        let lease = machine.leaseNew(1, at: 0)
        #expect(machine.release(lease.connectionID, disposition: .reuse, now: t(299)).close.isEmpty)
        // Idle: the age timer closes it.
        #expect(machine.nextDeadline() == t(300))
        #expect(machine.timerFired(now: t(300)).close.map(\.id) == [conn(0)])

        // Leased when it ages: closed on release instead of going idle.
        let second = machine.leaseNew(2, at: 400)
        let released = machine.release(second.connectionID, disposition: .reuse, now: t(700))
        #expect(released.close == [.init(id: second.connectionID, connection: second.connectionID.rawValue, gracefully: true)])
    }

    @Test func connectionIsClosedAfterMaxUses() {
        var machine = TestMachine(configuration: configuration { $0.maxUsesPerConnection = 2 })
        let first = machine.leaseNew(1)
        _ = machine.release(first.connectionID, disposition: .reuse, now: t(1))
        let second = machine.lease(2, at: 2).grant[0].lease
        #expect(second.useCount == 2)
        let released = machine.release(second.connectionID, disposition: .reuse, now: t(3))
        #expect(released.close == [.init(id: conn(0), connection: 0, gracefully: true)])
        #expect(machine.lease(3, at: 4).create.count == 1)
    }

    @Test(arguments: [(4.9, false), (5.0, true), (20.0, true)])
    func needsHealthCheckAfterIdlingLongEnough(idleSeconds: Double, expected: Bool) {
        var machine = TestMachine(configuration: configuration { $0.checkAfterIdle = .seconds(5) })
        let first = machine.leaseNew(1)
        _ = machine.release(first.connectionID, disposition: .reuse, now: t(1))
        let lease = machine.lease(2, at: 1 + idleSeconds).grant[0].lease
        #expect(lease.needsHealthCheck == expected)
        #expect(lease.isReused)
    }

    @Test func connectionHandedStraightToAWaiterNeedsNoHealthCheck() {
        var machine = TestMachine(configuration: configuration { $0.maxConnectionsPerPool = 1 })
        let first = machine.leaseNew(1)
        _ = machine.lease(2)
        let next = machine.release(first.connectionID, disposition: .reuse, now: t(9))
        #expect(next.grant[0].lease.needsHealthCheck == false)
    }

    // MARK: requireFresh

    @Test func requireFreshNeverGetsAReusedConnection() {
        var machine = TestMachine(configuration: configuration { $0.maxConnectionsPerPool = 2 })
        let first = machine.leaseNew(1)
        _ = machine.release(first.connectionID, disposition: .reuse, now: t(1))
        let fresh = machine.lease(2, fresh: true, at: 2)
        #expect(fresh.grant.isEmpty)
        #expect(fresh.create == [.init(id: conn(1), key: "a")])
        let created = machine.connectionCreated(conn(1), connection: 1, now: t(3))
        #expect(created.grant.map(\.lease.isReused) == [false])
        #expect(created.grant.map(\.lease.connectionID) == [conn(1)])
    }

    @Test func requireFreshAtTheCapClosesAnIdleConnectionToMakeRoom() {
        var machine = TestMachine(configuration: configuration { $0.maxConnectionsPerPool = 1 })
        let first = machine.leaseNew(1)
        #expect(machine.lease(2, fresh: true).grant.isEmpty)
        // A released connection is not given to a fresh-only waiter; it makes room instead.
        let released = machine.release(first.connectionID, disposition: .reuse, now: t(1))
        #expect(released.grant.isEmpty)
        #expect(released.close == [.init(id: conn(0), connection: 0, gracefully: true)])
        let closed = machine.connectionClosed(conn(0), now: t(2))
        #expect(closed.create == [.init(id: conn(1), key: "a")])
        #expect(machine.connectionCreated(conn(1), connection: 1, now: t(3)).grant.map(\.request) == [req(2)])
    }

    @Test func releasedConnectionSkipsFreshOnlyWaitersButKeepsOrder() {
        var machine = TestMachine(configuration: configuration { $0.maxConnectionsPerPool = 2 })
        let first = machine.leaseNew(1)
        _ = machine.leaseNew(2)
        _ = machine.lease(3, fresh: true)
        _ = machine.lease(4)
        let released = machine.release(first.connectionID, disposition: .reuse, now: t(1))
        #expect(released.grant.map(\.request) == [req(4)])
        #expect(machine.stats("a")?.waiting == 1)
    }

    // MARK: Back-off

    @Test func backOffLowersTheCapUntilTheInstantThenRestoresIt() {
        var machine = TestMachine(configuration: configuration { $0.maxConnectionsPerPool = 3 })
        let first = machine.leaseNew(1)
        _ = machine.leaseNew(2)
        _ = machine.leaseNew(3)
        // The server refused the third session: discard it and back off.
        _ = machine.release(first.connectionID, disposition: .discard, now: t(1))
        _ = machine.connectionClosed(first.connectionID, now: t(1))
        let backOff = machine.backOff(key: "a", until: t(60), now: t(1))
        #expect(backOff.create.isEmpty)
        #expect(machine.nextDeadline() == t(60))
        #expect(machine.stats("a")?.cap == 2)
        #expect(machine.stats("a")?.backoffs == 1)
        // A waiter does not trigger a third connection; it waits.
        let waiting = machine.lease(4, at: 2)
        #expect(waiting.create.isEmpty && waiting.grant.isEmpty)
        // A second refusal lowers it further, never below 1.
        _ = machine.backOff(key: "a", until: t(30), now: t(3))
        #expect(machine.stats("a")?.cap == 1)
        _ = machine.backOff(key: "a", until: t(30), now: t(3))
        #expect(machine.stats("a")?.cap == 1)
        // The waiter times out at its deadline (t 12), well before the back-off ends.
        #expect(machine.timerFired(now: t(12)).reject == [.init(request: req(4), failure: .busy)])
        _ = machine.lease(5, at: 55)
        // At the later of the two instants the cap is restored and the waiter gets a connection.
        #expect(machine.timerFired(now: t(59)).create.isEmpty)
        let restored = machine.timerFired(now: t(60))
        #expect(restored.create.count == 1)
        #expect(machine.stats("a")?.cap == 3)
    }

    // MARK: Shutdown

    @Test func shutdownFailsWaitersClosesIdleAndLetsLeasesFinish() {
        var machine = TestMachine(configuration: configuration { $0.maxConnectionsPerPool = 2 })
        let leased = machine.leaseNew(1)
        let idle = machine.leaseNew(2)
        _ = machine.release(idle.connectionID, disposition: .reuse, now: t(1))
        let creatingInOther = machine.lease(3, "b").create[0]
        let failingInOther = machine.lease(4, "b").create[0]
        #expect(machine.lease(5, "b").create.isEmpty)  // "b" is at its cap

        let shutdown = machine.shutdown(now: t(2))
        #expect(Set(shutdown.reject.map(\.request)) == [req(3), req(4), req(5)])
        #expect(shutdown.reject.allSatisfy { $0.failure == .shuttingDown })
        #expect(shutdown.close == [.init(id: idle.connectionID, connection: idle.connectionID.rawValue, gracefully: true)])
        #expect(!shutdown.shutdownComplete)
        #expect(machine.lease(6, at: 2).reject == [.init(request: req(6), failure: .shuttingDown)])
        #expect(machine.snapshot(now: t(2)).isShuttingDown)

        // A connection whose creation was under way is closed as soon as it exists.
        let late = machine.connectionCreated(creatingInOther.id, connection: 99, now: t(3))
        #expect(late.grant.isEmpty)
        #expect(late.close == [.init(id: creatingInOther.id, connection: 99, gracefully: true)])
        // The leased connection finishes its work, then closes gracefully.
        let released = machine.release(leased.connectionID, disposition: .reuse, now: t(4))
        #expect(released.close == [.init(id: leased.connectionID, connection: leased.connectionID.rawValue, gracefully: true)])

        #expect(machine.connectionCreationFailed(failingInOther.id, now: t(4)).reject.isEmpty)
        #expect(!machine.connectionClosed(idle.connectionID, now: t(5)).shutdownComplete)
        #expect(!machine.connectionClosed(creatingInOther.id, now: t(5)).shutdownComplete)
        #expect(machine.connectionClosed(leased.connectionID, now: t(6)).shutdownComplete)
        #expect(machine.phase == .shutDown)
    }

    @Test func shutdownWithNothingOpenCompletesAtOnce() {
        var machine = TestMachine(configuration: configuration())
        #expect(machine.shutdown(now: t(0)).shutdownComplete)
        #expect(!machine.shutdown(now: t(0)).shutdownComplete)  // reported once
    }

    // MARK: Keys

    @Test func aConnectionNeverServesAnotherKey() {
        var machine = TestMachine(configuration: configuration())
        let a = machine.leaseNew(1, "a")
        _ = machine.release(a.connectionID, disposition: .reuse, now: t(1))
        let b = machine.lease(2, "b", at: 2)
        #expect(b.grant.isEmpty)
        #expect(b.create == [.init(id: conn(1), key: "b")])
        // Even when "b" waits and "a"'s connection is free, it goes to "a" only.
        var capped = TestMachine(configuration: configuration { $0.maxConnectionsPerPool = 1 })
        let bLease = capped.leaseNew(1, "b")
        _ = capped.lease(2, "b")
        let aLease = capped.leaseNew(3, "a")
        let released = capped.release(aLease.connectionID, disposition: .reuse, now: t(1))
        #expect(released.grant.isEmpty)
        #expect(capped.stats("a")?.idle == 1)
        #expect(capped.release(bLease.connectionID, disposition: .reuse, now: t(2)).grant.map(\.lease.connectionID) == [bLease.connectionID])
    }

    // MARK: Failures, timers, prewarming

    @Test func creationFailureFailsTheLongestWaiterAndRetriesForTheRest() {
        var machine = TestMachine(configuration: configuration { $0.maxConnectionsPerPool = 1 })
        let create = machine.lease(1).create[0]
        _ = machine.lease(2)
        let failed = machine.connectionCreationFailed(create.id, now: t(1))
        #expect(failed.reject == [.init(request: req(1), failure: .connectionFailed)])
        #expect(failed.create == [.init(id: conn(1), key: "a")])
        #expect(machine.stats("a")?.creationFailures == 1)
    }

    @Test func timerIsScheduledOnlyWhenAnEarlierDeadlineAppears() {
        var machine = TestMachine(configuration: configuration { $0.maxConnectionsPerPool = 1 })
        _ = machine.leaseNew(1)
        #expect(machine.lease(req(2), key: "a", label: "l", requireFresh: false, deadline: t(8), now: t(0)).scheduleTimer == t(8))
        #expect(machine.lease(req(3), key: "a", label: "l", requireFresh: false, deadline: t(9), now: t(0)).scheduleTimer == nil)
        #expect(machine.lease(req(4), key: "a", label: "l", requireFresh: false, deadline: t(5), now: t(0)).scheduleTimer == t(5))
        let fired = machine.timerFired(now: t(5))
        #expect(fired.reject.map(\.request) == [req(4)])
        #expect(fired.scheduleTimer == t(8))
    }

    @Test func prewarmingKeepsMinimumIdleConnectionsPastTheIdleTimeout() {
        var machine = TestMachine(configuration: configuration { $0.minimumIdleConnections = 1; $0.maxConnectionsPerPool = 3 })
        let create = machine.lease(1).create
        // One for the request, and one more to keep idle.
        #expect(create.count == 1)
        let created = machine.connectionCreated(create[0].id, connection: 0, now: t(0))
        #expect(created.create.count == 1)
        _ = machine.connectionCreated(created.create[0].id, connection: 1, now: t(0))
        #expect(machine.stats("a")?.idle == 1)
        // The idle minimum is exempt from the idle timeout…
        #expect(machine.timerFired(now: t(100)).close.isEmpty)
        // Taking the idle one refills the minimum.
        let second = machine.lease(2, at: 100)
        #expect(second.grant.map(\.lease.connectionID) == [conn(1)])
        #expect(second.create.count == 1)
        _ = machine.connectionCreated(second.create[0].id, connection: 2, now: t(100))
        _ = machine.release(conn(0), disposition: .reuse, now: t(100))
        #expect(machine.stats("a")?.idle == 2)
        // Idle connections beyond the minimum still expire.
        #expect(machine.timerFired(now: t(130)).close.count == 1)
        #expect(machine.stats("a")?.idle == 1)
    }
}
