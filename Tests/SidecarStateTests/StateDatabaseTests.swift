import Foundation
import SidecarCore
import Testing

@testable import SidecarState

@Suite("StateDatabase")
struct StateDatabaseTests {
    @Test("opens in WAL mode with synchronous=FULL and the current schema version")
    func pragmas() throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        let (mode, synchronous) = try database.withConnection { connection in
            (try connection.queryFirst("PRAGMA journal_mode")?.text(0), try connection.queryFirst("PRAGMA synchronous")?.int(0))
        }
        #expect(mode == "wal")
        #expect(synchronous == 2)  // FULL
        #expect(try database.schemaVersion() == StateSchema.currentVersion)
        #expect(FileManager.default.fileExists(atPath: directory.databasePath))
    }

    @Test("the database, WAL and shared-memory files are private to the daemon (0600)")
    func filePermissions() throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        try database.withTransaction { try $0.run("INSERT INTO rate_minute (key, minute, sends) VALUES ('k', 1, 1)") }
        for suffix in ["", "-wal", "-shm"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: directory.databasePath + suffix)
            #expect((attributes[.posixPermissions] as? Int) == 0o600, "\(suffix)")
        }
    }

    @Test("reopening keeps data and does not re-run migrations")
    func reopen() throws {
        let directory = try TemporaryStateDirectory()
        let first = try directory.open()
        try first.withTransaction { connection in
            try connection.run("INSERT INTO rate_minute (key, minute, sends) VALUES (?, ?, ?)", [.text("k"), .integer(7), .int(3)])
        }
        first.close()
        let second = try directory.open()
        let sends = try second.withConnection { try $0.queryFirst("SELECT sends FROM rate_minute WHERE key = 'k'")?.int(0) }
        #expect(sends == 3)
        #expect(try second.schemaVersion() == StateSchema.currentVersion)
    }

    @Test("a database from a newer build is refused")
    func newerSchema() throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        try database.withConnection { try $0.execute("PRAGMA user_version = 99") }
        database.close()
        #expect {
            try directory.open()
        } throws: { error in
            (error as? SQLiteError)?.context.contains("newer") == true
        }
    }

    @Test("a relaxed commit runs at synchronous=NORMAL, keeps its data, and puts FULL back, also when it throws")
    func relaxedCommit() throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        func level(_ connection: SQLiteConnection) throws -> Int? { try connection.queryFirst("PRAGMA synchronous")?.int(0) }
        let during = try database.withTransaction(synchronous: .normal) { connection in
            try connection.run("INSERT INTO rate_minute (key, minute, sends) VALUES ('k', 1, 1)")
            return try level(connection)
        }
        #expect(during == 1)  // NORMAL
        #expect(try database.withConnection(level) == 2)  // FULL again
        #expect(try database.withConnection { try $0.query("SELECT * FROM rate_minute").count } == 1)

        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try database.withTransaction(synchronous: .normal) { connection in
                try connection.run("INSERT INTO rate_minute (key, minute, sends) VALUES ('k', 2, 1)")
                throw Abort()
            }
        }
        #expect(try database.withConnection(level) == 2)
        #expect(try database.withConnection { try $0.query("SELECT * FROM rate_minute").count } == 1)

        // Asking for the configured level changes nothing.
        let unchanged = try database.withTransaction(synchronous: .full) { try level($0) }
        #expect(unchanged == 2)
        database.close()
        let reopened = try directory.open()
        #expect(try reopened.withConnection { try $0.query("SELECT * FROM rate_minute").count } == 1)
    }

    @Test("a throwing transaction rolls back; SQL errors become internal_error without bound values")
    func rollback() throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try database.withTransaction { connection in
                try connection.run("INSERT INTO rate_minute (key, minute, sends) VALUES ('k', 1, 1)")
                throw Abort()
            }
        }
        #expect(try database.withConnection { try $0.query("SELECT * FROM rate_minute").count } == 0)

        let secretValue = "s3cret-bound-value"
        let error = #expect(throws: SQLiteError.self) {
            try database.withTransaction { connection in
                try connection.run("INSERT INTO rate_minute (key, minute, sends) VALUES (?, 1, -5)", [.text(secretValue)])
            }
        }
        #expect(error?.isBusy == false)
        #expect(error?.description.contains(secretValue) == false)
        #expect(error?.description.contains("CHECK constraint") == true)
    }

    @Test("typed binds and columns round-trip, including empty and binary blobs")
    func typedValues() throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        let row = try database.withConnection { connection in
            try connection.queryFirst("SELECT ?, ?, ?, ?, ?, ?", [.integer(-42), .real(1.5), .text("héllo"), .blob([0, 1, 255]), .blob([]), .null])
        }
        let values = try #require(row)
        #expect(try values.int64(0) == -42)
        #expect(try values.double(1) == 1.5)
        #expect(try values.text(2) == "héllo")
        #expect(try values.blob(3) == [0, 1, 255])
        #expect(try values.blob(4) == [])
        #expect(try values.optionalText(5) == nil)
        #expect(throws: SQLiteError.self) { try values.text(0) }
    }

    @Test("a closed database fails with internal_error")
    func closed() throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        database.close()
        database.close()
        #expect(throws: SQLiteError.self) { try database.schemaVersion() }
    }
}
