import Foundation
import SidecarState
import Testing

/// What every duplicate-suppression backend promises (``DedupStoring``), run against this
/// host's SQLite database and a real PostgreSQL alike.
@Suite("Dedup store contract")
struct DedupContractTests {
    static let window: Duration = .seconds(3600)

    private func begin(_ store: any DedupStoring, _ key: String = "k", window: Duration = Self.window) async throws
        -> DedupResolution
    {
        try await store.begin(key: key, window: window, deadline: ContinuousClock.now + .seconds(20))
    }

    /// Two "processes" on the same records (two hosts with PostgreSQL), on one clock.
    private func twoProcesses(_ stores: StateStores) -> (first: any DedupStoring, second: any DedupStoring) {
        let clock = ManualWallClock()
        return (stores.makeDedup(clock, false), stores.makeDedup(clock, false))
    }

    private func proceeded(_ resolution: DedupResolution) throws -> DedupTicket {
        guard case .proceed(let ticket) = resolution else { throw TestFailure("expected proceed, got \(resolution)") }
        return ticket
    }

    @Test("a finished send is replayed to an identical one within the window", arguments: StateBackend.allCases)
    func replayed(_ backend: StateBackend) async throws {
        try await backend.withStores { stores in
            let clock = ManualWallClock()
            let store = stores.makeDedup(clock, false)
            let ticket = try proceeded(try await begin(store))
            #expect(try await store.markPending(ticket))
            #expect(try await store.complete(ticket, resultJSON: #"{"outcome":"sent"}"#, countsAsSent: true))
            #expect(try await begin(store) == .duplicate(resultJSON: #"{"outcome":"sent"}"#))
            // Another process (another host) sees it too.
            let other = stores.makeDedup(clock, false)
            #expect(try await begin(other) == .duplicate(resultJSON: #"{"outcome":"sent"}"#))
            // After the window the key is free again.
            clock.advance(by: 3601)
            _ = try proceeded(try await begin(other))
        }
    }

    @Test("a send that did not go out frees the key", arguments: StateBackend.allCases)
    func notSentFrees(_ backend: StateBackend) async throws {
        try await backend.withStores { stores in
            let store = stores.makeDedup(ManualWallClock(), false)
            let ticket = try proceeded(try await begin(store))
            #expect(try await store.markPending(ticket))
            #expect(try await store.complete(ticket, resultJSON: "null", countsAsSent: false))
            _ = try proceeded(try await begin(store))
        }
    }

    @Test("window 0 always proceeds and records nothing", arguments: StateBackend.allCases)
    func windowZero(_ backend: StateBackend) async throws {
        try await backend.withStores { stores in
            let store = stores.makeDedup(ManualWallClock(), false)
            let ticket = try proceeded(try await begin(store, window: .zero))
            #expect(try await store.markPending(ticket) == false)
            #expect(try await store.complete(ticket, resultJSON: "{}", countsAsSent: true) == false)
            _ = try proceeded(try await begin(store, window: .zero))
            _ = try proceeded(try await begin(store))
        }
    }

    @Test("of identical concurrent sends one proceeds; the others wait and get its result", arguments: StateBackend.allCases)
    func concurrentIdentical(_ backend: StateBackend) async throws {
        try await backend.withStores { stores in
            // Four identical requests on each of two processes.
            let (first, second) = twoProcesses(stores)
            // Each answer, and whether it went on to send (its mark held).
            let answers = try await withThrowingTaskGroup(of: (DedupResolution, Bool).self) { group in
                for index in 0..<8 {
                    let store = index.isMultiple(of: 2) ? first : second
                    group.addTask {
                        let resolution = try await store.begin(
                            key: "same", window: Self.window, deadline: ContinuousClock.now + .seconds(30))
                        guard case .proceed(let ticket) = resolution else { return (resolution, false) }
                        guard try await store.markPending(ticket) else { return (resolution, false) }
                        try await Task.sleep(for: .milliseconds(100))
                        #expect(try await store.complete(ticket, resultJSON: #"{"n":1}"#, countsAsSent: true))
                        return (resolution, true)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            // Exactly one sends; the others get its result. On SQLite a claim lives in its
            // process's memory until the mark, so another process may proceed too, and then
            // its mark fails and it sends nothing; PostgreSQL claims in the database, so
            // only one ever proceeds.
            #expect(answers.filter(\.1).count == 1)
            let proceeded = answers.filter { if case .proceed = $0.0 { true } else { false } }
            #expect(backend == .sqlite ? proceeded.count >= 1 : proceeded.count == 1)
            for (resolution, sent) in answers where !sent {
                let isProceed = if case .proceed = resolution { true } else { false }
                #expect(resolution == .duplicate(resultJSON: #"{"n":1}"#) || (backend == .sqlite && isProceed))
            }
        }
    }

    @Test("an optimistic claim is made at the mark: of two, one marks; the other waits the careful way", arguments: StateBackend.allCases)
    func optimisticClaimsAtTheMark(_ backend: StateBackend) async throws {
        try await backend.withStores { stores in
            let (first, second) = twoProcesses(stores)
            let mine = try proceeded(try await first.beginOptimistically(key: "k", window: Self.window, deadline: nil))
            // Another host's optimistic begin sees nothing yet: the claim is the mark's.
            let theirs = try proceeded(try await second.beginOptimistically(key: "k", window: Self.window, deadline: nil))
            #expect(try await first.markPending(mine))
            #expect(try await second.markPending(theirs) == false, "the key is held: this send must not go out")
            // The careful begin waits for the holder's result.
            async let waited = second.begin(key: "k", window: Self.window, deadline: ContinuousClock.now + .seconds(20))
            try await Task.sleep(for: .milliseconds(50))
            #expect(try await first.complete(mine, resultJSON: #"{"first":true}"#, countsAsSent: true))
            #expect(try await waited == .duplicate(resultJSON: #"{"first":true}"#))
        }
    }

    @Test("an optimistic mark takes over a key whose record expired, and a send that did not go out frees it", arguments: StateBackend.allCases)
    func optimisticTakesOverExpired(_ backend: StateBackend) async throws {
        try await backend.withStores { stores in
            let clock = ManualWallClock()
            let store = stores.makeDedup(clock, false)
            let old = try proceeded(try await begin(store, window: .seconds(60)))
            #expect(try await store.markPending(old))
            #expect(try await store.complete(old, resultJSON: #"{"old":true}"#, countsAsSent: true))
            clock.advance(by: 61)
            let other = stores.makeDedup(clock, false)
            let fresh = try proceeded(try await other.beginOptimistically(key: "k", window: Self.window, deadline: nil))
            #expect(try await other.markPending(fresh))
            #expect(try await other.complete(fresh, resultJSON: #"{"new":true}"#, countsAsSent: true))
            #expect(try await begin(store) == .duplicate(resultJSON: #"{"new":true}"#))
            // Optimistic, then not sent: nothing holds the key.
            let unsent = try proceeded(try await other.beginOptimistically(key: "u", window: Self.window, deadline: nil))
            try await other.complete(unsent, resultJSON: "null", countsAsSent: false)
            let again = try proceeded(try await store.beginOptimistically(key: "u", window: Self.window, deadline: nil))
            #expect(try await store.markPending(again))
        }
    }

    @Test("an optimistic begin of a key in progress in this process waits like begin", arguments: StateBackend.allCases)
    func optimisticWaitsForThisProcess(_ backend: StateBackend) async throws {
        try await backend.withStores { stores in
            let store = stores.makeDedup(ManualWallClock(), false)
            let ticket = try proceeded(try await store.beginOptimistically(key: "k", window: Self.window, deadline: nil))
            let answer = try await store.beginOptimistically(
                key: "k", window: Self.window, deadline: ContinuousClock.now + .milliseconds(300))
            #expect(answer == .inProgressAtDeadline)
            #expect(try await store.markPending(ticket))
            #expect(try await store.complete(ticket, resultJSON: "{}", countsAsSent: true))
        }
    }

    @Test("a waiting duplicate whose deadline passes is told so, and sends nothing", arguments: StateBackend.allCases)
    func deadlineWhileWaiting(_ backend: StateBackend) async throws {
        try await backend.withStores { stores in
            let clock = ManualWallClock()
            let store = stores.makeDedup(clock, false)
            let ticket = try proceeded(try await begin(store))
            #expect(try await store.markPending(ticket))
            let other = stores.makeDedup(clock, false)
            let answer = try await other.begin(key: "k", window: Self.window, deadline: ContinuousClock.now + .milliseconds(300))
            #expect(answer == .inProgressAtDeadline)
            #expect(try await store.complete(ticket, resultJSON: "{}", countsAsSent: true))
        }
    }

    @Test("a send whose sender died after its transaction began may have been sent", arguments: StateBackend.allCases)
    func deadAfterPending(_ backend: StateBackend) async throws {
        try await backend.withStores { stores in
            let clock = ManualWallClock()
            let dead = stores.makeDedup(clock, true)
            let ticket = try proceeded(try await begin(dead))
            #expect(try await dead.markPending(ticket))
            clock.advance(by: stores.lease + 1)
            let other = stores.makeDedup(clock, false)
            guard case .abandoned = try await begin(other) else { throw TestFailure("expected abandoned") }
            // Never sent again within the window; free after it.
            guard case .abandoned = try await begin(other) else { throw TestFailure("expected abandoned again") }
            clock.advance(by: 3601)
            _ = try proceeded(try await begin(other))
        }
    }

    @Test("a send whose sender died before its transaction began sent nothing: the key is free", arguments: StateBackend.allCases)
    func deadBeforePending(_ backend: StateBackend) async throws {
        try await backend.withStores { stores in
            let clock = ManualWallClock()
            let dead = stores.makeDedup(clock, true)
            let ticket = try proceeded(try await begin(dead))
            clock.advance(by: stores.lease + 1)
            let other = stores.makeDedup(clock, false)
            let taken = try proceeded(try await begin(other))
            #expect(try await other.markPending(taken))
            // The dead sender's ticket no longer holds the key.
            #expect(try await dead.markPending(ticket) == false)
        }
    }

    @Test("an outcome written later is seen by this process's next identical send", arguments: StateBackend.allCases)
    func completeLater(_ backend: StateBackend) async throws {
        try await backend.withStores { stores in
            let store = stores.makeDedup(ManualWallClock(), false)
            let ticket = try proceeded(try await begin(store))
            #expect(try await store.markPending(ticket))
            store.completeLater(ticket, resultJSON: #"{"later":true}"#, countsAsSent: true) { error in
                Issue.record("completeLater failed: \(error)")
            }
            #expect(try await begin(store) == .duplicate(resultJSON: #"{"later":true}"#))
            await store.flush()
        }
    }

    @Test("purging deletes finished records past their window and keeps live ones", arguments: StateBackend.allCases)
    func purge(_ backend: StateBackend) async throws {
        try await backend.withStores { stores in
            let clock = ManualWallClock()
            let store = stores.makeDedup(clock, false)
            let done = try proceeded(try await begin(store, "done", window: .seconds(60)))
            #expect(try await store.markPending(done))
            #expect(try await store.complete(done, resultJSON: "{}", countsAsSent: true))
            let live = try proceeded(try await begin(store, "live", window: .seconds(60)))
            #expect(try await store.markPending(live))
            #expect(try await store.purgeExpired(now: clock()) == 0)
            clock.advance(by: 61)
            try await stores.renew(store)
            #expect(try await store.purgeExpired(now: clock()) == 1)
            // The live send still holds its key, and completes.
            #expect(try await store.complete(live, resultJSON: "{}", countsAsSent: true))
        }
    }
}
