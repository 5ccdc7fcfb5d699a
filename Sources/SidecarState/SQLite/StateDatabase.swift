import SidecarCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The daemon's state database: one SQLite file in its state directory, holding the
/// dedup records, the rate counters and the encrypted credentials.
///
/// ## Durability across `kill -9` (and power loss)
/// The file is opened in WAL journal mode with `synchronous=FULL`. In WAL mode a commit
/// appends to `<file>-wal`; when the process dies (even by SIGKILL) everything it committed
/// is already in the kernel's page cache and the next open replays the WAL, so a committed
/// dedup record or consumed token is never lost, and an uncommitted transaction is never
/// half-applied. `synchronous=NORMAL` would give exactly that for process death; `FULL`
/// also fsyncs the WAL at every commit, so a commit survives an OS crash or power loss too.
/// We take FULL: losing a committed `pending` record to a power cut would let the retry
/// send the email twice.
///
/// A caller may relax one commit with `withTransaction(synchronous: .normal)` when losing
/// that commit to an OS crash is harmless: it is durable against process death at once,
/// and against power loss with the next FULL commit (which syncs the whole WAL, earlier
/// frames included) or checkpoint. ``DedupStore`` does so for a send's outcome: lost, it
/// leaves the `pending` record, which answers "may have been sent", never a second send.
/// That spares the second fsync of every default send (measured with paired runs, together
/// with a cheaper JSON encoding of the outcome: 13-18% of the daemon's CPU per send and
/// 0.25-0.34 ms of its latency; perf put the encoding at about 5%).
///
/// ## Concurrency
/// One connection, inside a `Mutex`: every call runs alone, so a read-check-write in one
/// ``withTransaction(_:)`` is atomic within the process. Across processes (a restarted
/// daemon overlapping the old one, the crash probe in the tests) `BEGIN IMMEDIATE` takes
/// SQLite's write lock up front and `busy_timeout` waits for it. Calls block the calling
/// thread for the duration of the statement (microseconds, plus an fsync per commit);
/// that is acceptable at email rates and keeps the API synchronous and easy to test.
public final class StateDatabase: Sendable {
    /// Defaults suit the daemon.
    public struct Configuration: Sendable {
        /// How long a statement waits for another process's write lock before failing
        /// with a retryable `internal_error`. Default 5 s.
        public var busyTimeout: Duration
        /// Default `.full`; see the type's documentation.
        public var synchronous: Synchronous

        public enum Synchronous: String, Sendable {
            case normal = "NORMAL"
            case full = "FULL"
        }

        public init(busyTimeout: Duration = .seconds(5), synchronous: Synchronous = .full) {
            self.busyTimeout = busyTimeout
            self.synchronous = synchronous
        }
    }

    /// The file name inside the state directory.
    public static let fileName = "state.sqlite3"

    /// The database file's path.
    public let path: String
    private let connection: Mutex<SQLiteConnection?>
    private let synchronous: Configuration.Synchronous

    /// Opens `<stateDirectory>/state.sqlite3`, creating it and bringing its schema up to date.
    public convenience init(stateDirectory: String, configuration: Configuration = .init()) throws {
        let directory = stateDirectory.hasSuffix("/") ? String(stateDirectory.dropLast()) : stateDirectory
        try self.init(path: "\(directory)/\(Self.fileName)", configuration: configuration)
    }

    /// Opens the database file at `path`, creating it and bringing its schema up to date.
    /// Throws an `internal_error` ``SidecarError``.
    public init(path: String, configuration: Configuration = .init()) throws {
        self.path = path
        synchronous = configuration.synchronous
        // SQLite creates a new file with the umask's mode (usually 0644) and gives the WAL
        // and shared-memory files the main file's mode: create it 0600 first.
        guard createPrivateFile(path) else {
            throw SQLiteError(code: nil, context: "create the database file (errno \(errno))").sidecarError
        }
        do {
            let connection = try SQLiteConnection(path: path)
            try connection.setBusyTimeout(milliseconds: Int32(clamping: configuration.busyTimeout.milliseconds))
            // journal_mode returns the mode in force; anything but "wal" (e.g. a file system
            // without shared memory) would lose the guarantees documented above.
            let mode = try connection.queryFirst("PRAGMA journal_mode=WAL")?.text(0)
            guard mode?.lowercased() == "wal" else {
                throw SQLiteError(code: nil, context: "the database could not be put in WAL mode (got \(mode ?? "nothing"))")
            }
            try connection.execute("PRAGMA synchronous=\(configuration.synchronous.rawValue)")
            try connection.execute("PRAGMA foreign_keys=ON")
            try StateSchema.migrate(connection)
            self.connection = Mutex(connection)
        } catch let error as SQLiteError {
            throw error.sidecarError
        }
    }

    /// Closes the connection. Later calls fail with `internal_error`. Idempotent; also done
    /// when the database is deinitialised.
    public func close() {
        connection.withLock { connection in
            connection?.close()
            connection = nil
        }
    }

    /// Runs `body` with the connection, alone, outside a transaction.
    /// A ``SQLiteError`` thrown inside becomes an `internal_error` ``SidecarError``.
    @discardableResult
    public func withConnection<Result: Sendable>(_ body: (SQLiteConnection) throws -> Result) throws -> Result {
        try connection.withLock { connection throws -> Result in
            guard let connection else { throw SQLiteError(code: nil, context: "the database is closed").sidecarError }
            do {
                return try body(connection)
            } catch let error as SQLiteError {
                throw error.sidecarError
            }
        }
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction, alone: it commits when `body`
    /// returns and rolls back when it throws. A ``SQLiteError`` becomes an `internal_error`.
    ///
    /// `synchronous` `.normal` relaxes this one commit when the database is FULL: it does
    /// not wait for the disk (see the type's documentation for when that is harmless).
    @discardableResult
    public func withTransaction<Result: Sendable>(
        synchronous commit: Configuration.Synchronous? = nil, _ body: (SQLiteConnection) throws -> Result
    ) throws -> Result {
        guard let commit, commit != synchronous else {
            return try withConnection { connection in try connection.transaction(body) }
        }
        return try withConnection { connection in
            try connection.execute("PRAGMA synchronous=\(commit.rawValue)")
            let result: Result
            do {
                result = try connection.transaction(body)
            } catch {
                try restore(connection)
                throw error
            }
            try restore(connection)
            return result
        }
    }

    /// Puts the configured `synchronous` back after a relaxed commit. If even that fails,
    /// the connection is closed: later calls fail rather than commit more weakly than
    /// configured.
    private func restore(_ connection: SQLiteConnection) throws(SQLiteError) {
        do {
            try connection.execute("PRAGMA synchronous=\(synchronous.rawValue)")
        } catch {
            connection.close()
            throw error
        }
    }

    /// The schema version (`PRAGMA user_version`).
    public func schemaVersion() throws -> Int {
        try withConnection { connection in try connection.userVersion() }
    }
}

/// Creates `path` with mode 0600 if it does not exist (an existing file is left as it is).
private func createPrivateFile(_ path: String) -> Bool {
    let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { return false }
    close(descriptor)
    return true
}
