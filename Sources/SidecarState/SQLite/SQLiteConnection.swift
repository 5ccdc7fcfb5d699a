import CSQLite

/// One open SQLite connection and its cache of prepared statements.
///
/// Not `Sendable` and not thread-safe by itself: ``StateDatabase`` owns the only instance
/// inside a `Mutex` and hands it out one caller at a time. It is opened with
/// `SQLITE_OPEN_NOMUTEX` because that mutex already serialises every use.
public final class SQLiteConnection {
    private var handle: OpaquePointer?
    private var statements: [String: SQLiteStatement] = [:]
    private var transactionDepth = 0
    /// Whether a ``transaction(_:)`` is open.
    var isInTransaction: Bool { transactionDepth > 0 }
    /// The `synchronous` level the connection is at, as last set by ``committing(_:configured:_:)``
    /// (nil: not known yet).
    private var synchronousLevel: StateDatabase.Configuration.Synchronous?

    /// Opens (creating if needed) the database at `path`.
    init(path: String) throws(SQLiteError) {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let status = sqlite3_open_v2(path, &db, flags, nil)
        guard status == SQLITE_OK, let db else {
            let error = SQLiteError(code: status, context: "open the database: \(Self.message(db, status))")
            sqlite3_close_v2(db)
            throw error
        }
        self.handle = db
        sqlite3_extended_result_codes(db, 1)
    }

    deinit {
        close()
    }

    /// Finalises every statement and closes the connection. Idempotent.
    func close() {
        statements.removeAll()
        if let handle {
            sqlite3_close_v2(handle)
            self.handle = nil
        }
    }

    /// Runs one or more statements that take no parameters and return no rows (DDL, PRAGMA).
    public func execute(_ sql: String) throws(SQLiteError) {
        let db = try open()
        let status = sqlite3_exec(db, sql, nil, nil, nil)
        guard status == SQLITE_OK else { throw failure(status, "execute a statement") }
    }

    /// Runs a statement that returns no rows; returns how many rows it changed.
    @discardableResult
    public func run(_ sql: String, _ bindings: [SQLiteValue] = []) throws(SQLiteError) -> Int {
        let statement = try prepared(sql)
        defer { statement.reset() }
        try statement.bind(bindings)
        while try statement.step() {}
        return Int(sqlite3_changes(try open()))
    }

    /// Runs a query and returns every row.
    public func query(_ sql: String, _ bindings: [SQLiteValue] = []) throws(SQLiteError) -> [SQLiteRow] {
        let statement = try prepared(sql)
        defer { statement.reset() }
        try statement.bind(bindings)
        var rows: [SQLiteRow] = []
        while try statement.step() {
            rows.append(statement.row())
        }
        return rows
    }

    /// Runs a query and returns its first row, or nil.
    public func queryFirst(_ sql: String, _ bindings: [SQLiteValue] = []) throws(SQLiteError) -> SQLiteRow? {
        let statement = try prepared(sql)
        defer { statement.reset() }
        try statement.bind(bindings)
        return try statement.step() ? statement.row() : nil
    }

    /// Runs `body` in a transaction: `BEGIN IMMEDIATE` (so the write lock is taken at once
    /// and two processes cannot both read-then-write), `COMMIT` when it returns,
    /// `ROLLBACK` when it throws. Nested calls join the outer transaction.
    public func transaction<Result>(_ body: (SQLiteConnection) throws -> Result) throws -> Result {
        if transactionDepth > 0 {
            transactionDepth += 1
            defer { transactionDepth -= 1 }
            return try body(self)
        }
        try run("BEGIN IMMEDIATE")
        transactionDepth = 1
        do {
            let result = try body(self)
            transactionDepth = 0
            try run("COMMIT")
            return result
        } catch {
            transactionDepth = 0
            // A failed COMMIT may already have rolled back; ROLLBACK then fails harmlessly.
            _ = try? run("ROLLBACK")
            throw error
        }
    }

    /// Runs `body` (which commits) with the connection at `synchronous` level `mode`, then
    /// puts `configured` back, also when `body` throws. If even that fails the connection
    /// is closed, so that later calls fail rather than commit more weakly than configured.
    /// A level already in force costs no PRAGMA.
    func committing<Result>(
        _ mode: StateDatabase.Configuration.Synchronous, configured: StateDatabase.Configuration.Synchronous,
        _ body: (SQLiteConnection) throws -> Result
    ) throws -> Result {
        try setSynchronous(mode)
        let result = Swift.Result<Result, any Error> { try body(self) }
        do {
            try setSynchronous(configured)
        } catch {
            close()
            throw error
        }
        return try result.get()
    }

    private func setSynchronous(_ mode: StateDatabase.Configuration.Synchronous) throws(SQLiteError) {
        guard mode != synchronousLevel else { return }
        synchronousLevel = nil
        // A kept prepared statement (``run(_:_:)``), not `execute`: a relaxed commit switches
        // the level twice, and parsing the PRAGMA each time was most of what it cost.
        try run("PRAGMA synchronous=\(mode.rawValue)")
        synchronousLevel = mode
    }

    /// The connection's `PRAGMA user_version`.
    public func userVersion() throws(SQLiteError) -> Int {
        guard let row = try queryFirst("PRAGMA user_version") else {
            throw SQLiteError(code: nil, context: "PRAGMA user_version returned no row")
        }
        return try row.int(0)
    }

    func setBusyTimeout(milliseconds: Int32) throws(SQLiteError) {
        let status = sqlite3_busy_timeout(try open(), milliseconds)
        guard status == SQLITE_OK else { throw failure(status, "set the busy timeout") }
    }

    private func prepared(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        if let cached = statements[sql] { return cached }
        let db = try open()
        var raw: OpaquePointer?
        let status = sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil)
        guard status == SQLITE_OK, let raw else { throw failure(status, "prepare a statement") }
        let statement = SQLiteStatement(raw, connection: db)
        statements[sql] = statement
        return statement
    }

    private func open() throws(SQLiteError) -> OpaquePointer {
        guard let handle else { throw SQLiteError(code: nil, context: "the database is closed") }
        return handle
    }

    private func failure(_ status: Int32, _ action: String) -> SQLiteError {
        SQLiteError(code: status, context: "\(action): \(Self.message(handle, status))")
    }

    static func message(_ db: OpaquePointer?, _ status: Int32) -> String {
        if let db, let text = sqlite3_errmsg(db) { return String(cString: text) }
        if let text = sqlite3_errstr(status) { return String(cString: text) }
        return "unknown error"
    }
}
