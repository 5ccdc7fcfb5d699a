import SidecarTestSupport
import Testing

@testable import SidecarPool

/// The machine arms a timer only when a deadline earlier than the armed one appears, and
/// then looks only at deadlines the event added. This drives it through long random runs
/// of every event (seeded, so a failure repeats) and checks after each one that a timer
/// the shell would still be sleeping on is due no later than the machine's next deadline:
/// a deadline added without arming would show up as a timer due too late.
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
        var nextRequest = 0

        func take(_ actions: TestMachine.Actions) {
            creating += actions.create.map(\.id)
            leased += actions.grant.map(\.lease.connectionID)
            closing += actions.close.map(\.id)
            if let instant = actions.scheduleTimer { timers.append(instant) }
        }

        for step in 0..<3000 {
            switch Int.random(in: 0..<8, using: &random) {
            case 0, 1:
                nextRequest += 1
                let key = Bool.random(using: &random) ? "a" : "b"
                let wait = Double(Int.random(in: 0...30, using: &random))
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
                take(machine.backOff(key: Bool.random(using: &random) ? "a" : "b", until: until, now: now))
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
        }
    }
}
