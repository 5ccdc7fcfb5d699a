import Foundation
import SidecarCore
import Testing

@testable import SidecarState

@Suite("DedupStore")
struct DedupStoreTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let sent = #"{"outcome":"sent","message_id":"<a@b>"}"#

    @Test("a finished send is replayed within the window and forgotten after it")
    func duplicateThenExpiry() throws {
        let directory = try TemporaryStateDirectory()
        let store = DedupStore(database: try directory.open())
        guard case .proceed(let ticket) = try store.begin(key: "k", now: t0) else { throw TestFailure("first begin must proceed") }
        #expect(try store.complete(ticket, resultJSON: sent, countsAsSent: true))
        #expect(try store.begin(key: "k", now: t0.addingTimeInterval(3599.999)) == .duplicate(resultJSON: sent))
        #expect(try store.begin(key: "other", now: t0.addingTimeInterval(1)) != .duplicate(resultJSON: sent))
        guard case .proceed = try store.begin(key: "k", now: t0.addingTimeInterval(3600)) else {
            throw TestFailure("after the window the key must be free")
        }
    }

    @Test("a per-request window overrides the default")
    func customWindow() throws {
        let directory = try TemporaryStateDirectory()
        let store = DedupStore(database: try directory.open())
        guard case .proceed(let ticket) = try store.begin(key: "k", window: .seconds(10), now: t0) else { throw TestFailure("proceed") }
        try store.complete(ticket, resultJSON: sent, countsAsSent: true)
        #expect(try store.begin(key: "k", window: .seconds(10), now: t0.addingTimeInterval(9)) == .duplicate(resultJSON: sent))
        guard case .proceed = try store.begin(key: "k", window: .seconds(10), now: t0.addingTimeInterval(10)) else {
            throw TestFailure("expired")
        }
    }

    @Test("a not-sent outcome deletes the record so a retry sends")
    func notSent() throws {
        let directory = try TemporaryStateDirectory()
        let store = DedupStore(database: try directory.open())
        guard case .proceed(let ticket) = try store.begin(key: "k", now: t0) else { throw TestFailure("proceed") }
        #expect(try store.begin(key: "k", now: t0) == .inProgress)
        #expect(try store.complete(ticket, resultJSON: #"{"outcome":"not_sent"}"#, countsAsSent: false))
        guard case .proceed = try store.begin(key: "k", now: t0.addingTimeInterval(1)) else { throw TestFailure("retry must proceed") }
    }

    @Test("window 0 disables dedup: always proceeds and stores nothing")
    func windowZero() throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        let store = DedupStore(database: database)
        for _ in 0..<2 {
            guard case .proceed(let ticket) = try store.begin(key: "k", window: .zero, now: t0) else { throw TestFailure("proceed") }
            #expect(try store.complete(ticket, resultJSON: sent, countsAsSent: true) == false)
        }
        #expect(try database.withConnection { try $0.query("SELECT key FROM dedup").count } == 0)
    }

    @Test("records survive closing and reopening the database")
    func survivesReopen() throws {
        let directory = try TemporaryStateDirectory()
        do {
            let database = try directory.open()
            let store = DedupStore(database: database, identity: ProcessIdentity(owner: "test:first"))
            guard case .proceed(let done) = try store.begin(key: "done", now: t0) else { throw TestFailure("proceed") }
            try store.complete(done, resultJSON: sent, countsAsSent: true)
            guard case .proceed(let pending) = try store.begin(key: "pending", now: t0) else { throw TestFailure("proceed") }
            #expect(try store.markPending(pending))
            database.close()
        }
        let store = DedupStore(database: try directory.open(), identity: ProcessIdentity(owner: "test:second"))
        #expect(try store.begin(key: "done", now: t0.addingTimeInterval(60)) == .duplicate(resultJSON: sent))
        // An owner whose liveness cannot be checked is presumed alive until the stale limit...
        #expect(try store.begin(key: "pending", now: t0.addingTimeInterval(60)) == .inProgress)
        // ...then the send may have happened: abandoned, not re-sent.
        #expect(try store.begin(key: "pending", now: t0.addingTimeInterval(600)) == .abandoned(since: t0))
        guard case .proceed = try store.begin(key: "pending", now: t0.addingTimeInterval(3600)) else {
            throw TestFailure("after the window an abandoned key is free")
        }
    }

    @Test("a pending record of a dead process is abandoned at once")
    func deadOwner() throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        let boot = try String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // pid 1 exists, but not with this start time: a reused pid is not mistaken for the owner.
        let dead = ProcessIdentity(owner: "linux:\(boot):1:1")
        let deadStore = DedupStore(database: database, identity: dead)
        guard case .proceed(let ticket) = try deadStore.begin(key: "k", now: t0) else { throw TestFailure("proceed") }
        #expect(try deadStore.markPending(ticket))
        let store = DedupStore(database: database)
        #expect(try store.begin(key: "k", now: t0.addingTimeInterval(1)) == .abandoned(since: t0))
    }

    @Test("ProcessIdentity tells live, dead and unknown owners apart")
    func liveness() {
        #expect(ProcessIdentity.isAlive(owner: ProcessIdentity.current.owner) == true)
        let parts = ProcessIdentity.current.owner.split(separator: ":").map(String.init)
        #expect(ProcessIdentity.isAlive(owner: "linux:\(parts[1]):\(parts[2]):0") == false)
        #expect(ProcessIdentity.isAlive(owner: "linux:another-boot:\(parts[2]):\(parts[3])") == false)
        #expect(ProcessIdentity.isAlive(owner: "opaque:1234") == nil)
    }

    @Test("a ticket whose record was replaced cannot overwrite the new one")
    func staleTicket() throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        let old = DedupStore(database: database, staleAfter: .seconds(600), identity: ProcessIdentity(owner: "test:old"))
        guard case .proceed(let oldTicket) = try old.begin(key: "k", window: .seconds(700), now: t0) else { throw TestFailure("proceed") }
        #expect(try old.markPending(oldTicket))
        let new = DedupStore(database: database, identity: ProcessIdentity(owner: "test:new"))
        guard case .proceed(let newTicket) = try new.begin(key: "k", window: .seconds(700), now: t0.addingTimeInterval(700)) else {
            throw TestFailure("the abandoned, expired record is replaced")
        }
        #expect(try new.markPending(newTicket))
        #expect(try old.complete(oldTicket, resultJSON: "{}", countsAsSent: true) == false)
        #expect(try old.release(oldTicket) == false)
        #expect(try new.complete(newTicket, resultJSON: sent, countsAsSent: true))
        #expect(try new.begin(key: "k", now: t0.addingTimeInterval(701)) == .duplicate(resultJSON: sent))
    }

    @Test("purgeExpired deletes finished and stale records past their window, keeps live ones")
    func purge() throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        let store = DedupStore(database: database)
        guard case .proceed(let done) = try store.begin(key: "done", window: .seconds(10), now: t0) else { throw TestFailure("proceed") }
        try store.complete(done, resultJSON: sent, countsAsSent: true)
        for (key, window) in [("live", 10), ("fresh", 100)] {
            guard case .proceed(let ticket) = try store.begin(key: key, window: .seconds(window), now: t0) else {
                throw TestFailure("proceed")
            }
            #expect(try store.markPending(ticket))
        }
        #expect(try store.purgeExpired(now: t0.addingTimeInterval(11)) == 1)
        #expect(try store.purgeExpired(now: t0.addingTimeInterval(600)) == 2)
        #expect(try database.withConnection { try $0.query("SELECT key FROM dedup").count } == 0)
    }

    @Test("many concurrent identical begins: exactly one proceeds")
    func concurrentSyncBegins() async throws {
        let directory = try TemporaryStateDirectory()
        let store = DedupStore(database: try directory.open())
        let now = t0
        let results = await withTaskGroup(of: DedupBegin?.self) { group in
            for _ in 0..<64 {
                group.addTask { try? store.begin(key: "k", now: now) }
            }
            return await group.reduce(into: [DedupBegin?]()) { $0.append($1) }
        }
        let proceeded = results.filter { if case .proceed = $0 { return true } else { return false } }
        #expect(proceeded.count == 1)
        #expect(results.filter { $0 == .inProgress }.count == 63)
    }

    @Test("concurrent identical async begins: one sends, the others wait and get its result")
    func concurrentAsyncBegins() async throws {
        let directory = try TemporaryStateDirectory()
        // A long poll interval: the waiters must be woken in-process, not by polling.
        let store = DedupStore(database: try directory.open(), pollInterval: .seconds(30))
        let sent = sent
        let results = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<32 {
                group.addTask {
                    switch try await store.begin(key: "k") {
                    case .proceed(let ticket):
                        try await Task.sleep(for: .milliseconds(100))
                        try await store.complete(ticket, resultJSON: sent, countsAsSent: true)
                        return "sent"
                    case .duplicate(let json):
                        return json
                    case .abandoned:
                        return "abandoned"
                    case .inProgressAtDeadline:
                        return "deadline"
                    }
                }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(results.filter { $0 == "sent" }.count == 1)
        #expect(results.filter { $0 == sent }.count == 31)
    }

    @Test("a waiter proceeds when the first send did not go out")
    func waiterProceedsAfterRelease() async throws {
        let directory = try TemporaryStateDirectory()
        let store = DedupStore(database: try directory.open(), pollInterval: .seconds(30))
        guard case .proceed(let first) = try await store.begin(key: "k") else { throw TestFailure("proceed") }
        let waiter = Task { try await store.begin(key: "k") }
        try await Task.sleep(for: .milliseconds(50))
        try store.release(first)
        guard case .proceed = try await waiter.value else { throw TestFailure("the waiter must proceed") }
    }

    @Test("a record written by another process is polled until it finishes")
    func pollsOtherProcess() async throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        let other = DedupStore(database: database, identity: ProcessIdentity(owner: "test:other"))
        let mine = DedupStore(database: database, pollInterval: .milliseconds(20))
        guard case .proceed(let ticket) = try other.begin(key: "k", now: Date()) else { throw TestFailure("proceed") }
        // Another process's send is seen from its `pending` record on.
        #expect(try await other.markPending(ticket))
        let waiter = Task { try await mine.begin(key: "k") }
        try await Task.sleep(for: .milliseconds(100))
        // `other` is a separate store: its completion cannot wake `mine` in-process.
        try await other.complete(ticket, resultJSON: sent, countsAsSent: true)
        #expect(try await waiter.value == .duplicate(resultJSON: sent))
    }

    @Test("a cancelled waiter stops waiting")
    func cancellation() async throws {
        let directory = try TemporaryStateDirectory()
        let store = DedupStore(database: try directory.open(), pollInterval: .seconds(30))
        guard case .proceed = try await store.begin(key: "k") else { throw TestFailure("proceed") }
        let waiter = Task { try await store.begin(key: "k") }
        try await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
    }

    // Issue 21 item 5: an outcome that cannot be written must still answer the identical
    // sends waiting on it. On d967eb0 the failure was swallowed and the waiter sat until
    // the stale limit, then got "abandoned" (outcome_unknown) for a send that succeeded.
    @Test("a waiter is answered from memory when the first send's outcome cannot be written", arguments: [true, false])
    func unrecordedOutcomeAnswersWaiters(countsAsSent: Bool) async throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        // A stale limit far above how long the steps can take on a loaded machine: on d967eb0
        // the waiter got "abandoned" only when it ran out.
        let store = DedupStore(database: database, staleAfter: .seconds(30), pollInterval: .seconds(5))
        guard case .proceed(let ticket) = try await store.begin(key: "k") else { throw TestFailure("proceed") }
        #expect(try await store.markPending(ticket))
        // The database refuses to record any outcome; reads (and reservations) still work.
        try database.withConnection { connection in
            try connection.execute(
                """
                CREATE TRIGGER refuse_done BEFORE UPDATE ON dedup WHEN NEW.state = 'done'
                BEGIN SELECT RAISE(ABORT, 'injected failure'); END;
                CREATE TRIGGER refuse_delete BEFORE DELETE ON dedup
                BEGIN SELECT RAISE(ABORT, 'injected failure'); END;
                """)
        }
        let waiter = Task { try await store.begin(key: "k") }
        await #expect(throws: SQLiteError.self) {
            try await store.complete(ticket, resultJSON: sent, countsAsSent: countsAsSent)
        }
        let answer = try await waiter.value
        if countsAsSent {
            #expect(answer == .duplicate(resultJSON: sent))
        } else {
            guard case .proceed = answer else { throw TestFailure("a send that did not go out frees the key: \(answer)") }
        }
    }

    @Test("completeLater reports a failed write and still answers the waiters")
    func unrecordedOutcomeInBackground() async throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        // A stale limit far above how long the steps can take on a loaded machine: on d967eb0
        // the waiter got "abandoned" only when it ran out.
        let store = DedupStore(database: database, staleAfter: .seconds(30), pollInterval: .seconds(5))
        guard case .proceed(let ticket) = try await store.begin(key: "k") else { throw TestFailure("proceed") }
        #expect(try await store.markPending(ticket))
        try database.withConnection { connection in
            try connection.execute(
                """
                CREATE TRIGGER refuse_done BEFORE UPDATE ON dedup WHEN NEW.state = 'done'
                BEGIN SELECT RAISE(ABORT, 'injected failure'); END;
                """)
        }
        let waiter = Task { try await store.begin(key: "k") }
        let (failures, continuation) = AsyncStream.makeStream(of: String.self)
        store.completeLater(ticket, resultJSON: sent, countsAsSent: true) { error in
            continuation.yield("\(error)")
            continuation.finish()
        }
        var iterator = failures.makeAsyncIterator()
        let failure = await iterator.next()
        #expect(failure?.contains("injected failure") == true)
        #expect(try await waiter.value == .duplicate(resultJSON: sent))
    }

    @Test("completeLater's outcome is seen by every request queued after it")
    func completeLaterIsOrdered() async throws {
        let directory = try TemporaryStateDirectory()
        let store = DedupStore(database: try directory.open(), pollInterval: .seconds(30))
        guard case .proceed(let ticket) = try await store.begin(key: "k") else { throw TestFailure("proceed") }
        store.completeLater(ticket, resultJSON: sent, countsAsSent: true) { _ in }
        // The very next request sees the outcome at once: with a deadline already passed it
        // would answer inProgressAtDeadline had it read the record before the outcome.
        #expect(try await store.begin(key: "k", deadline: .now) == .duplicate(resultJSON: sent))
    }

    // Issue 21 item 2c: a waiting duplicate honours its own deadline.
    @Test("a waiter whose deadline passes while an identical send runs is told so")
    func waiterDeadline() async throws {
        let directory = try TemporaryStateDirectory()
        let store = DedupStore(database: try directory.open(), pollInterval: .seconds(30))
        guard case .proceed = try await store.begin(key: "k") else { throw TestFailure("proceed") }
        #expect(try await store.begin(key: "k", deadline: .now + .milliseconds(100)) == .inProgressAtDeadline)
        #expect(try await store.begin(key: "k", deadline: .now - .seconds(1)) == .inProgressAtDeadline)
        // Without contention a deadline changes nothing.
        guard case .proceed = try await store.begin(key: "other", deadline: .now - .seconds(1)) else {
            throw TestFailure("a free key proceeds")
        }
    }

    // The reservation lives in memory: begin writes nothing; markPending writes `pending`.
    @Test("a reservation is in memory only; pending is the first write")
    func reservationIsNotWritten() throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        let store = DedupStore(database: database)
        guard case .proceed(let ticket) = try store.begin(key: "k", now: t0) else { throw TestFailure("proceed") }
        let rows = { try database.withConnection { try $0.query("SELECT state FROM dedup").map { try $0.text(0) } } }
        #expect(try rows().isEmpty)
        // An identical send of this process waits for it.
        #expect(try store.begin(key: "k", now: t0) == .inProgress)
        #expect(try store.markPending(ticket))
        #expect(try store.markPending(ticket), "a second mark (a retry on a fresh connection) writes nothing")
        #expect(try rows() == ["pending"])
        #expect(try store.complete(ticket, resultJSON: sent, countsAsSent: true))
        #expect(try store.begin(key: "k", now: t0) == .duplicate(resultJSON: sent))
    }

    @Test("a send released before its mark leaves nothing and frees the key")
    func releaseBeforeMark() throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        let store = DedupStore(database: database)
        guard case .proceed(let ticket) = try store.begin(key: "k", now: t0) else { throw TestFailure("proceed") }
        #expect(try store.release(ticket))
        #expect(try store.markPending(ticket) == false, "a released ticket cannot mark")
        guard case .proceed = try store.begin(key: "k", now: t0) else { throw TestFailure("the key is free") }
    }

    @Test("when another process marked the key first, this one's mark fails and it does not send")
    func anotherProcessMarkedFirst() throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        let mine = DedupStore(database: database)
        let other = DedupStore(database: database, identity: ProcessIdentity(owner: "test:other"))
        guard case .proceed(let myTicket) = try mine.begin(key: "k", now: t0) else { throw TestFailure("proceed") }
        guard case .proceed(let otherTicket) = try other.begin(key: "k", now: t0) else { throw TestFailure("proceed") }
        #expect(try other.markPending(otherTicket))
        #expect(try mine.markPending(myTicket) == false)
        #expect(try mine.begin(key: "k", now: t0) == .inProgress, "its reservation was given up; the other's record holds")
        #expect(try other.complete(otherTicket, resultJSON: sent, countsAsSent: true))
        #expect(try mine.begin(key: "k", now: t0.addingTimeInterval(1)) == .duplicate(resultJSON: sent))
    }

    @Test("a reservation older than the stale limit is given up")
    func staleReservation() throws {
        let directory = try TemporaryStateDirectory()
        let store = DedupStore(database: try directory.open(), staleAfter: .seconds(600))
        guard case .proceed(let first) = try store.begin(key: "k", now: t0) else { throw TestFailure("proceed") }
        #expect(try store.begin(key: "k", now: t0.addingTimeInterval(599)) == .inProgress)
        guard case .proceed = try store.begin(key: "k", now: t0.addingTimeInterval(600)) else {
            throw TestFailure("a reservation past the stale limit no longer holds the key")
        }
        #expect(try store.markPending(first) == false, "the first send lost its reservation and must not go out")
    }
}
