import Foundation
import Testing

@testable import SidecarState

/// A real process changes the database, is killed with SIGKILL, and a new connection
/// (the restarted daemon) checks what it left.
@Suite("kill -9", .serialized)
struct CrashTests {
    @Test("a send begun by a process killed mid-send is abandoned at once, never re-sent within the window")
    func dedupPendingSurvivesKill() throws {
        let directory = try TemporaryStateDirectory()
        // Create the schema first, so the probe only writes the record.
        try directory.open().close()
        let line = try CrashProbe.runAndKill([directory.databasePath, "dedup-send", "key-1", "3600"])
        #expect(line == "ready proceed")

        let database = try directory.open()
        let store = DedupStore(database: database)
        guard case .abandoned = try store.begin(key: "key-1", now: Date()) else {
            throw TestFailure("a pending record of a killed process must read as 'may have been sent'")
        }
        // The dead owner is recognised by pid and start time; no waiting for the stale limit.
        let row = try database.withConnection { try $0.queryFirst("SELECT state, owner FROM dedup WHERE key = 'key-1'") }
        #expect(try row?.text(0) == "pending")
        #expect(try row.map { try ProcessIdentity.isAlive(owner: $0.text(1)) } == false)
        guard case .proceed = try store.begin(key: "key-1", now: Date().addingTimeInterval(3601)) else {
            throw TestFailure("after the window the key is free")
        }
    }

    // Issue 21 item 16: a send killed while it waited for a connection (reserved, not yet
    // `pending`) sent nothing; on d967eb0 the record was `pending` at once and the next
    // identical send got outcome_unknown for the whole window. The reservation is kept in
    // the process's memory, so it leaves nothing behind.
    @Test("a send killed before its transaction began leaves nothing that holds the next identical send back")
    func dedupReservedFreedByKill() throws {
        let directory = try TemporaryStateDirectory()
        try directory.open().close()
        let line = try CrashProbe.runAndKill([directory.databasePath, "dedup-begin", "key-2", "3600"])
        #expect(line == "ready proceed")

        let database = try directory.open()
        let row = try database.withConnection { try $0.queryFirst("SELECT state FROM dedup WHERE key = 'key-2'") }
        #expect(row == nil)
        let store = DedupStore(database: database)
        guard case .proceed(let ticket) = try store.begin(key: "key-2", now: Date()) else {
            throw TestFailure("a reservation of a killed process must not block the next identical send")
        }
        #expect(try store.markPending(ticket))
    }

    @Test("tokens and quota consumed by a process killed right after are still consumed")
    func rateSurvivesKill() throws {
        let directory = try TemporaryStateDirectory()
        let line = try CrashProbe.runAndKill([directory.databasePath, "rate-acquire", "cred", "5", "3", "4"])
        #expect(line == "ready allowed=3")

        let limiter = RateLimiter(database: try directory.open())
        let now = Date()
        #expect(try limiter.sendsInLastDay(key: "cred", now: now) == 3)
        guard case .limited(_, .rate) = try limiter.acquire(key: "cred", limits: RateLimits(rate: .perMinute(3), daily: 4), now: now) else {
            throw TestFailure("the bucket emptied by the killed process must still be empty")
        }
        guard case .allowed = try limiter.acquire(key: "cred", limits: RateLimits(daily: 4), now: now) else {
            throw TestFailure("one send of the quota is left")
        }
        guard case .limited(_, .daily) = try limiter.acquire(key: "cred", limits: RateLimits(daily: 4), now: now) else {
            throw TestFailure("the quota is used up")
        }
    }

    @Test("a transaction killed before COMMIT leaves nothing behind and no lock")
    func uncommittedTransaction() throws {
        let directory = try TemporaryStateDirectory()
        let line = try CrashProbe.runAndKill([directory.databasePath, "hold-transaction", "half"])
        #expect(line == "ready holding")
        let database = try directory.open()
        #expect(try database.withConnection { try $0.query("SELECT key FROM dedup").count } == 0)
        // The dead process's write lock is gone: a write succeeds at once.
        guard case .proceed = try DedupStore(database: database).begin(key: "half", now: Date()) else {
            throw TestFailure("the key was never committed, so it is free")
        }
    }
}
