import Testing

import SidecarTestSupport
@testable import SidecarPool

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

/// A request's own deadline (`request_timeout`, and its connection attempt abandoned) and
/// the fair shares of the overall connection budget.
@Suite struct PoolDeadlineAndShareTests {
    // MARK: The request's deadline

    @Test func aRequestsOwnDeadlineIsNotABusyPool() {
        var machine = TestMachine(configuration: configuration { $0.maxConnectionsPerPool = 1 })
        _ = machine.leaseNew(1)
        _ = machine.lease(req(2), key: "a", label: "label-a", requireFresh: false, deadline: t(4), now: t(0))
        #expect(machine.timerFired(now: t(4)).reject == [.init(request: req(2), failure: .deadlineExceeded)])
        // Without a deadline of its own, the pool's wait limit applies: that is `busy`.
        _ = machine.lease(req(3), key: "a", label: "label-a", requireFresh: false, deadline: nil, now: t(5))
        #expect(machine.timerFired(now: t(15)).reject == [.init(request: req(3), failure: .busy)])
    }

    /// A server that accepts but never finishes setting the connection up (no greeting)
    /// is not a busy pool: the wait limit passing then is a `timeout`, not `pool_busy`.
    @Test func aConnectionStillBeingSetUpAtTheWaitLimitIsNotABusyPool() {
        var machine = TestMachine(configuration: configuration())
        let waiting = machine.lease(req(1), key: "a", label: "label-a", requireFresh: false, deadline: nil, now: t(0))
        #expect(waiting.create.count == 1)
        #expect(machine.timerFired(now: t(10)).reject == [.init(request: req(1), failure: .connectionNotReady)])

        // With the pool's connections lent out, waiting for one of them is `busy`, even if
        // another is being opened meanwhile.
        var busy = TestMachine(configuration: configuration { $0.maxConnectionsPerPool = 2 })
        _ = busy.leaseNew(1)
        let second = busy.lease(req(2), key: "a", label: "label-a", requireFresh: false, deadline: nil, now: t(0))
        #expect(second.create.count == 1)
        #expect(busy.timerFired(now: t(10)).reject == [.init(request: req(2), failure: .busy)])
    }

    @Test func aDeadlineAlreadyPassedFailsAtOnceAsTheRequestsOwn() {
        var machine = TestMachine(configuration: configuration())
        let late = machine.lease(req(1), key: "a", label: "label-a", requireFresh: false, deadline: t(0), now: t(0))
        #expect(late.reject == [.init(request: req(1), failure: .deadlineExceeded)])
        #expect(late.create.isEmpty)
    }

    @Test func theConnectionAttemptOfARequestWhoseDeadlinePassedIsAbandonedAndItsSlotGivenBack() {
        var machine = TestMachine(configuration: configuration { $0.maxConnectionsPerPool = 1; $0.maxConnectionsTotal = 1 })
        let first = machine.lease(req(1), key: "a", label: "label-a", requireFresh: false, deadline: t(1), now: t(0))
        #expect(first.create == [.init(id: conn(0), key: "a")])
        let expired = machine.timerFired(now: t(1))
        #expect(expired.reject == [.init(request: req(1), failure: .deadlineExceeded)])
        #expect(expired.cancelCreation == [conn(0)])
        #expect(machine.stats("a")?.abandoned == 1)
        // The attempt still holds its slot until the factory reports it ended.
        let next = machine.lease(req(2), key: "b", label: "label-b", requireFresh: false, deadline: t(60), now: t(1))
        #expect(next.create.isEmpty)
        // Its end is nobody's failure, and frees the slot for the next request.
        let ended = machine.connectionCreationFailed(conn(0), now: t(2))
        #expect(ended.reject.isEmpty)
        #expect(ended.create == [.init(id: conn(1), key: "b")])
        #expect(machine.stats("a")?.creationFailures ?? 0 == 0)
    }

    @Test func anAbandonedAttemptThatStillSucceedsIsClosedNotLent() {
        var machine = TestMachine(configuration: configuration())
        _ = machine.lease(req(1), key: "a", label: "label-a", requireFresh: false, deadline: t(1), now: t(0))
        _ = machine.timerFired(now: t(1))
        // A new request meanwhile gets an attempt of its own.
        let second = machine.lease(req(2), key: "a", label: "label-a", requireFresh: false, deadline: t(60), now: t(1))
        #expect(second.create == [.init(id: conn(1), key: "a")])
        let late = machine.connectionCreated(conn(0), connection: 0, now: t(2))
        #expect(late.grant.isEmpty)
        #expect(late.close.map(\.id) == [conn(0)])
        let own = machine.connectionCreated(conn(1), connection: 1, now: t(2))
        #expect(own.grant.map(\.request) == [req(2)])
    }

    @Test func onlyTheSurplusAttemptsAreAbandonedNewestFirst() {
        var machine = TestMachine(configuration: configuration())
        _ = machine.lease(req(1), key: "a", label: "label-a", requireFresh: false, deadline: t(60), now: t(0))
        _ = machine.lease(req(2), key: "a", label: "label-a", requireFresh: false, deadline: t(1), now: t(0))
        let expired = machine.timerFired(now: t(1))
        #expect(expired.reject == [.init(request: req(2), failure: .deadlineExceeded)])
        #expect(expired.cancelCreation == [conn(1)])
        // The remaining waiter still gets the other attempt.
        #expect(machine.connectionCreated(conn(0), connection: 0, now: t(2)).grant.map(\.request) == [req(1)])
    }

    @Test func aCancelledRequestAbandonsItsAttemptToo() {
        var machine = TestMachine(configuration: configuration())
        _ = machine.lease(req(1), key: "a", label: "label-a", requireFresh: false, deadline: t(60), now: t(0))
        let cancelled = machine.cancel(req(1), now: t(1))
        #expect(cancelled.cancelCreation == [conn(0)])
    }

    @Test func shutdownAbandonsEveryAttemptAndCompletesWhenTheyEnd() {
        var machine = TestMachine(configuration: configuration())
        _ = machine.lease(req(1), key: "a", label: "label-a", requireFresh: false, deadline: nil, now: t(0))
        _ = machine.lease(req(2), key: "b", label: "label-b", requireFresh: false, deadline: nil, now: t(0))
        let shutdown = machine.shutdown(now: t(1))
        #expect(Set(shutdown.cancelCreation) == [conn(0), conn(1)])
        #expect(!shutdown.shutdownComplete)
        _ = machine.connectionCreationFailed(conn(0), now: t(2))
        #expect(machine.connectionCreationFailed(conn(1), now: t(2)).shutdownComplete)
    }

    // MARK: Fair shares

    @Test func aGroupNeverHoldsMoreThanItsShare() {
        var machine = TestMachine(configuration: configuration { $0.maxConnectionsTotal = 64; $0.maxConnectionsPerPool = 2 })
        let slow = PoolShareGroup(id: "workspace slow", limit: 32)
        var created = 0
        // 64 requests over 32 pools (two each) of one workspace: only its share is made.
        for index in 0..<64 {
            let key = "slow-\(index / 2)"
            created += machine.lease(
                req(index), key: key, label: key, groups: [slow], requireFresh: false, deadline: t(60), now: t(0)
            ).create.count
        }
        #expect(created == 32)
        #expect(machine.groupCounts[slow] == 32)
        // Another workspace still gets a connection at once.
        let healthy = machine.lease(
            req(100), key: "healthy", label: "healthy", groups: [PoolShareGroup(id: "workspace healthy", limit: 32)],
            requireFresh: false, deadline: t(60), now: t(0))
        #expect(healthy.create.count == 1)
    }

    @Test func aGroupsWaiterGetsTheSlotItsGroupGivesBack() {
        var machine = TestMachine(configuration: configuration { $0.maxConnectionsTotal = 10 })
        let group = PoolShareGroup(id: "server s:587", limit: 2)
        _ = machine.lease(req(1), key: "a", label: "a", groups: [group], requireFresh: false, deadline: t(60), now: t(0))
        _ = machine.lease(req(2), key: "b", label: "b", groups: [group], requireFresh: false, deadline: t(60), now: t(0))
        let third = machine.lease(req(3), key: "c", label: "c", groups: [group], requireFresh: false, deadline: t(60), now: t(0))
        #expect(third.create.isEmpty)
        #expect(machine.snapshot(now: t(0)).pools.first { $0.label == "c" }?.waiting == 1)
        // The first attempt fails: its slot goes to the group's waiter.
        let failed = machine.connectionCreationFailed(conn(0), now: t(1))
        #expect(failed.reject.map(\.request) == [req(1)])
        #expect(failed.create == [.init(id: conn(2), key: "c")])
        #expect(machine.groupCounts[group] == 2)
    }

    @Test func anIdleConnectionOfTheSameGroupMakesRoom() {
        var machine = TestMachine(configuration: configuration { $0.maxConnectionsTotal = 10 })
        let group = PoolShareGroup(id: "workspace w", limit: 1)
        let lease = machine.lease(req(1), key: "a", label: "a", groups: [group], requireFresh: false, deadline: t(60), now: t(0))
        _ = machine.connectionCreated(lease.create[0].id, connection: 0, now: t(0))
        _ = machine.release(conn(0), disposition: .reuse, now: t(1))
        // Pool b of the same group: a's idle connection is closed to make room.
        let other = machine.lease(req(2), key: "b", label: "b", groups: [group], requireFresh: false, deadline: t(60), now: t(2))
        #expect(other.close.map(\.id) == [conn(0)])
        let closed = machine.connectionClosed(conn(0), now: t(3))
        #expect(closed.create == [.init(id: conn(1), key: "b")])
    }
}
