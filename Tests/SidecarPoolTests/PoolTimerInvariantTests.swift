import SidecarTestSupport
import Testing

@testable import SidecarPool

/// The machine keeps its per-send work independent of how many waiters and pools there
/// are: it arms a timer only when a deadline earlier than the armed one appears and then
/// looks only at deadlines the event added, serves only pools with waiters, and retires
/// only pools the event touched. This drives it through long random runs of every event
/// (seeded, so a failure repeats) and checks after each one that
/// - a timer the shell would still be sleeping on is due no later than the machine's next
///   deadline (a deadline added without arming would show up as a timer due too late);
/// - no empty pool is left behind (a pool emptied without being noted would stay forever,
///   with its connection settings in the shell);
/// - the pools noted as having waiters are exactly those that have them.
@Suite struct PoolTimerInvariantTests {
    @Test(arguments: [(UInt64(1), 0), (2, 1), (3, 0), (4, 2), (5, 1), (6, 0)])
    func armedTimerIsNeverLaterThanTheNextDeadline(seed: UInt64, minimumIdle: Int) {
        var random = SplitMix64(seed: seed)
        var configuration = PoolConfiguration()
        configuration.maxConnectionsPerPool = 2
        configuration.maxConnectionsTotal = 3
        configuration.maxWait = .seconds(20)
        configuration.idleTimeout = .seconds(15)
        configuration.maxConnectionAge = .seconds(60)
        configuration.maxUsesPerConnection = 4
        configuration.minimumIdleConnections = minimumIdle
        configuration.prewarmRetryDelay = .seconds(7)
        var machine = TestMachine(configuration: configuration)

        var now = MockClock.Instant.seconds(0)
        var timers: [MockClock.Instant] = []
        var creating: [PoolConnectionID] = []
        var leased: [PoolConnectionID] = []
        var closing: [PoolConnectionID] = []
        var waiting: [PoolRequestID] = []
        var nextRequest = 0
        let keys = ["a", "b", "c"]

        func take(_ actions: TestMachine.Actions) {
            creating += actions.create.map(\.id)
            leased += actions.grant.map(\.lease.connectionID)
            closing += actions.close.map(\.id)
            let answered = Set(actions.grant.map(\.request) + actions.reject.map(\.request))
            waiting.removeAll { answered.contains($0) }
            if let instant = actions.scheduleTimer { timers.append(instant) }
        }

        for step in 0..<3000 {
            switch Int.random(in: 0..<8, using: &random) {
            case 0, 1:
                nextRequest += 1
                let key = keys[Int.random(in: 0..<keys.count, using: &random)]
                let wait = Double(Int.random(in: 0...30, using: &random))
                waiting.append(PoolRequestID(nextRequest))
                take(machine.lease(
                    PoolRequestID(nextRequest), key: key, label: key, requireFresh: Int.random(in: 0..<5, using: &random) == 0,
                    deadline: now.advanced(by: .seconds(wait)), now: now))
            case 2 where !creating.isEmpty:
                let id = creating.remove(at: Int.random(in: 0..<creating.count, using: &random))
                if Int.random(in: 0..<4, using: &random) == 0 {
                    take(machine.connectionCreationFailed(id, now: now))
                } else {
                    take(machine.connectionCreated(id, connection: id.rawValue, now: now))
                }
            case 3 where !leased.isEmpty:
                let id = leased.remove(at: Int.random(in: 0..<leased.count, using: &random))
                let disposition: ReleaseDisposition = Int.random(in: 0..<5, using: &random) == 0 ? .discard : .reuse
                take(machine.release(id, disposition: disposition, now: now))
            case 4 where !closing.isEmpty:
                take(machine.connectionClosed(closing.removeFirst(), now: now))
            case 5 where Int.random(in: 0..<4, using: &random) == 0:
                let until = now.advanced(by: .seconds(Double(Int.random(in: 1...40, using: &random))))
                take(machine.backOff(key: keys[Int.random(in: 0..<keys.count, using: &random)], until: until, now: now))
            case 6 where !waiting.isEmpty && Int.random(in: 0..<3, using: &random) == 0:
                take(machine.cancel(waiting[Int.random(in: 0..<waiting.count, using: &random)], now: now))
            default:
                // Time passes; a timer the shell sleeps on fires when its instant comes.
                let later = now.advanced(by: .seconds(Double(Int.random(in: 1...10, using: &random))))
                if let due = timers.min(), due <= later {
                    timers.removeAll { $0 == due }
                    now = max(now, due)
                    take(machine.timerFired(now: now))
                } else {
                    now = later
                }
            }
            if let deadline = machine.nextDeadline() {
                let armed = timers.min()
                #expect(armed != nil && armed! <= deadline, "seed \(seed), step \(step): timer \(String(describing: armed)) for deadline \(deadline)")
                if armed == nil || armed! > deadline { return }
            }
            guard checkPools(machine, seed: seed, step: step) else { return }
        }
        // Shutdown, then every connection closes: nothing is left, every pool retires.
        take(machine.shutdown(now: now))
        guard checkPools(machine, seed: seed, step: -1) else { return }
        while !creating.isEmpty {
            take(machine.connectionCreated(creating.removeFirst(), connection: 0, now: now))
        }
        while !leased.isEmpty {
            take(machine.release(leased.removeFirst(), disposition: .reuse, now: now))
        }
        while !closing.isEmpty {
            take(machine.connectionClosed(closing.removeFirst(), now: now))
        }
        #expect(machine.phase == .shutDown)
        #expect(machine.pools.values.allSatisfy { $0.connections.isEmpty && $0.waiters.isEmpty })
        _ = checkPools(machine, seed: seed, step: -2)
    }

    private func checkPools(_ machine: TestMachine, seed: UInt64, step: Int) -> Bool {
        let empty = machine.pools.filter { $0.value.isEmpty }.map(\.key)
        #expect(empty.isEmpty, "seed \(seed), step \(step): empty pools kept: \(empty)")
        let withWaiters = Set(machine.pools.filter { !$0.value.waiters.isEmpty }.map(\.key))
        #expect(machine.poolsWithWaiters == withWaiters, "seed \(seed), step \(step)")
        return empty.isEmpty && machine.poolsWithWaiters == withWaiters
    }
}
