import Foundation
import NIOCore
import NIOPosix
import SidecarCore
import Synchronization
import Testing

@testable import SidecarState

/// Issue 21 item 4: the database runs on its own thread behind an async API, and work
/// queued during a commit is committed together (group commit).
@Suite("StateDatabase thread")
struct StateDatabaseThreadTests {
    /// Blocks the database's thread until `release()`; `waitUntilBlocked` returns once it is
    /// blocked. It polls rather than wait on a semaphore from Dispatch's global queue: on
    /// Linux that queue's threads are Swift concurrency's cooperative pool (as wide as the
    /// cores), so three tests waiting at once starved every other test of the process until
    /// Dispatch added threads (trivial tests took 3-10 s, and servers in other tests missed
    /// their clients' 10 s timeouts).
    final class Gate: Sendable {
        private let entered = Atomic<Bool>(false)
        private let opened = DispatchSemaphore(value: 0)

        func block() {
            entered.store(true, ordering: .releasing)
            opened.wait()
        }

        func waitUntilBlocked() async {
            while !entered.load(ordering: .acquiring) {
                try? await Task.sleep(for: .milliseconds(1))
            }
        }

        func release() { opened.signal() }
    }

    @Test("an event loop keeps running while the database's thread is inside a commit")
    func eventLoopIsNotBlocked() async throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        let gate = Gate()
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        // The call is made from the event loop, as the daemon's handlers make it.
        let held = loop.makeFutureWithTask {
            try await database.transaction { connection in
                try connection.run("INSERT INTO rate_minute (key, minute, sends) VALUES ('k', 1, 1)")
                gate.block()
            }
        }
        await gate.waitUntilBlocked()
        // On d967eb0 the statement ran on the calling thread: this would never run.
        #expect(try await loop.submit { 42 }.get() == 42)
        gate.release()
        try await held.get()
        #expect(try database.withConnection { try $0.query("SELECT * FROM rate_minute").count } == 1)
    }

    @Test("work queued during a commit is committed together; a failing job rolls back only its own changes")
    func groupCommit() async throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        let gate = Gate()
        struct Refused: Error {}
        let first = Task { try await database.transaction(synchronous: .full) { _ in gate.block() } }
        await gate.waitUntilBlocked()
        let before = database.batchesRun.load(ordering: .relaxed)
        let jobs = 40
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<jobs {
                group.addTask {
                    do {
                        try await database.transaction(synchronous: .full) { connection in
                            try connection.run(
                                "INSERT INTO rate_minute (key, minute, sends) VALUES ('k', ?, 1)", [.integer(Int64(index))])
                            if index % 4 == 0 { throw Refused() }
                        }
                        return true
                    } catch {
                        return false
                    }
                }
            }
            // Let every job reach the queue before the thread is released.
            while database.queue.withLock({ $0.jobs.count }) < jobs { await Task.yield() }
            gate.release()
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        try await first.value
        #expect(outcomes.filter { $0 }.count == jobs - jobs / 4)
        #expect(try database.withConnection { try $0.query("SELECT * FROM rate_minute").count } == jobs - jobs / 4)
        // 40 commits' work in one transaction (StateDatabase.maxBatch is 64).
        #expect(database.batchesRun.load(ordering: .relaxed) - before == 1)
        // And the configured level is back after the batch.
        #expect(try database.withConnection { try $0.queryFirst("PRAGMA synchronous")?.int(0) } == 2)
    }

    @Test("a relaxed batch commits at NORMAL and puts FULL back")
    func relaxedBatch() async throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        let level = try await database.transaction(synchronous: .normal) { connection in
            try connection.queryFirst("PRAGMA synchronous")?.int(0)
        }
        #expect(level == 1)
        #expect(try database.withConnection { try $0.queryFirst("PRAGMA synchronous")?.int(0) } == 2)
    }

    /// Runs `work` while a durable commit (inserting one row) is held open on the database's
    /// thread, once `work` is waiting in the queue behind it; then lets the commit finish.
    static func queuedBehindADurableCommit<Result: Sendable>(
        _ database: StateDatabase, _ work: @escaping @Sendable (StateDatabase) async throws -> Result
    ) async throws -> Result {
        let gate = Gate()
        let durable = Task {
            try await database.transaction(synchronous: .full) { connection in
                try connection.run("INSERT INTO rate_minute (key, minute, sends) VALUES ('k', 1, 1)")
                gate.block()
            }
        }
        await gate.waitUntilBlocked()
        let queued = Task { try await work(database) }
        while database.queue.withLock({ $0.jobs.count }) < 1 { await Task.yield() }
        gate.release()
        try await durable.value
        return try await queued.value
    }

    @Test("a read runs at once when the thread is idle, without a transaction, and in order behind a commit in progress")
    func readsTakeTheirTurn() async throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        let before = database.batchesRun.load(ordering: .relaxed)
        let idle = try await database.read { connection in
            (connection.isInTransaction, try connection.queryFirst("SELECT count(*) FROM rate_minute")?.int(0))
        }
        #expect(idle.0 == false && idle.1 == 0)
        #expect(database.batchesRun.load(ordering: .relaxed) == before, "it ran on the caller's thread")

        let read = try await Self.queuedBehindADurableCommit(database) { database in
            try await database.read { try $0.queryFirst("SELECT count(*) FROM rate_minute")?.int(0) }
        }
        #expect(read == 1, "it sees the work queued before it")
    }

    @Test("relaxed work runs at once when the thread is idle, and queues in order behind a commit in progress")
    func relaxedWorkTakesItsTurn() async throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        let before = database.batchesRun.load(ordering: .relaxed)
        _ = try await database.transaction(synchronous: .normal) { connection in
            try connection.run("INSERT INTO rate_minute (key, minute, sends) VALUES ('k', 0, 1)")
        }
        // Idle: it ran on the caller's thread, not as a batch of the database's thread.
        #expect(database.batchesRun.load(ordering: .relaxed) == before)

        // It waits in the queue (not on the connection's lock) and sees the earlier work.
        let relaxed = try await Self.queuedBehindADurableCommit(database) { database in
            try await database.transaction(synchronous: .normal) { connection in
                try connection.queryFirst("SELECT count(*) FROM rate_minute")?.int(0)
            }
        }
        #expect(relaxed == 2)
    }

    @Test("a closed database answers queued and later work with internal_error")
    func closed() async throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        database.close()
        await #expect(throws: SQLiteError.self) { try await database.transaction { _ in 1 } }
    }
}
