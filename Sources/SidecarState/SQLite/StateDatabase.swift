import NIOPosix
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
/// One connection, used by one caller at a time. The daemon's calls go through the async
/// ``transaction(synchronous:_:)``, which runs them on the database's own thread (an
/// `NIOThreadPool` of one thread), never on an event loop: a commit waits for `fsync`, and
/// on an event loop that wait stalled every client and SMTP connection. Work queued while
/// a commit is on the disk is committed together in the next transaction (group commit),
/// each caller's work in a savepoint of its own, so concurrent sends share one `fsync`
/// instead of queueing for one each. A commit that does not wait for the disk runs at once
/// on the caller's thread when the database's thread is idle (a write to the page cache
/// costs less than two thread wake-ups); an `fsync` — a durable commit or a WAL checkpoint
/// (automatic checkpoints are off) — only ever happens on the database's thread.
///
/// The synchronous ``withConnection(_:)`` and ``withTransaction(synchronous:_:)`` run on the
/// calling thread and wait for the thread's current batch; they are for the command-line
/// tools, start-up and tests, not for an event loop.
///
/// Across processes (a restarted daemon overlapping the old one, the crash probe in the
/// tests) `BEGIN IMMEDIATE` takes SQLite's write lock up front and `busy_timeout` waits for
/// it, on the database's thread.
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
    let connection: Mutex<SQLiteConnection?>
    let synchronous: Configuration.Synchronous
    let queue = Mutex(StateJobQueue())
    let thread: NIOThreadPool
    /// Transactions the database's thread has run (for tests of group commit).
    let batchesRun = Atomic<Int>(0)

    /// Opens `<stateDirectory>/state.sqlite3`, creating it and bringing its schema up to date.
    public convenience init(stateDirectory: String, configuration: Configuration = .init()) throws {
        let directory = stateDirectory.hasSuffix("/") ? String(stateDirectory.dropLast()) : stateDirectory
        try self.init(path: "\(directory)/\(Self.fileName)", configuration: configuration)
    }

    /// Opens the database file at `path`, creating it and bringing its schema up to date.
    /// Throws a ``SQLiteError``.
    public init(path: String, configuration: Configuration = .init()) throws {
        self.path = path
        synchronous = configuration.synchronous
        // SQLite creates a new file with the umask's mode (usually 0644) and gives the WAL
        // and shared-memory files the main file's mode: create it 0600 first.
        guard createPrivateFile(path) else {
            throw SQLiteError(code: nil, context: "create the database file (errno \(errno))")
        }
        let connection = try SQLiteConnection(path: path)
        try connection.setBusyTimeout(milliseconds: Int32(clamping: configuration.busyTimeout.wholeMilliseconds))
        // journal_mode returns the mode in force; anything but "wal" (e.g. a file system
        // without shared memory) would lose the guarantees documented above.
        let mode = try connection.queryFirst("PRAGMA journal_mode=WAL")?.text(0)
        guard mode?.lowercased() == "wal" else {
            throw SQLiteError(code: nil, context: "the database could not be put in WAL mode (got \(mode ?? "nothing"))")
        }
        try connection.committing(configuration.synchronous, configured: configuration.synchronous) { _ in }
        try connection.execute("PRAGMA foreign_keys=ON")
        // Checkpoints fsync: the database's thread runs them (see StateDatabase+Thread).
        try connection.execute("PRAGMA wal_autocheckpoint=0")
        try StateSchema.migrate(connection)
        self.connection = Mutex(connection)
        thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
    }

    deinit {
        // Queued work holds the database strongly, so nothing is queued by now.
        thread.shutdownGracefully { _ in }
    }

    /// Closes the connection. Later calls fail with a ``SQLiteError``. Idempotent; also done
    /// when the database is deinitialised.
    public func close() {
        let queued = queue.withLock { queue in
            queue.closed = true
            defer { queue.jobs.removeAll() }
            return queue.jobs
        }
        for job in queued { job.fail(Self.closedError) }
        connection.withLock { connection in
            connection?.close()
            connection = nil
        }
    }

    static var closedError: SQLiteError { SQLiteError(code: nil, context: "the database is closed") }

    /// Runs `body` with the connection, alone, outside a transaction. Throws what `body`
    /// throws, or a ``SQLiteError`` when the database is closed.
    @discardableResult
    public func withConnection<Result: Sendable>(_ body: (SQLiteConnection) throws -> Result) throws -> Result {
        try connection.withLock { connection throws -> Result in
            guard let connection else { throw Self.closedError }
            return try body(connection)
        }
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction, alone, on the calling thread: it
    /// commits when `body` returns and rolls back when it throws (what `body` threw, or the
    /// ``SQLiteError`` of the transaction itself).
    ///
    /// `synchronous` `.normal` relaxes this one commit when the database is FULL: it does
    /// not wait for the disk (see the type's documentation for when that is harmless).
    @discardableResult
    public func withTransaction<Result: Sendable>(
        synchronous commit: Configuration.Synchronous? = nil, _ body: (SQLiteConnection) throws -> Result
    ) throws -> Result {
        let configured = synchronous
        return try withConnection { connection in
            try connection.committing(commit ?? configured, configured: configured) { connection in
                try connection.transaction(body)
            }
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
