import FoundationEssentials
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import SidecarCore
import Synchronization

/// A fleet's shared state database: the connection pool to PostgreSQL (postgres-nio's
/// `PostgresClient`), the schema, and the bound on every statement. ``PostgresDedupStore``
/// and ``PostgresRateLimiter`` keep their records here.
///
/// ## Running
/// Nothing connects until ``run()`` runs (the daemon runs it as the first of its engine's
/// services, so that it stops last, after the sends in flight recorded their outcomes). It
/// migrates the schema as soon as the database answers, retrying with back-off while it
/// does not; until then every operation fails with ``PostgresStateError/Code/unavailable``.
///
/// ## Failure (decision)
/// Every operation is bounded by ``PostgresStateConfiguration/statementTimeout``, waiting for
/// a connection included: an unreachable or slow database fails the operation with
/// `unavailable` (the send answers `state_unavailable` and sends nothing), never blocks an
/// event loop (postgres-nio runs on its own), and the pool reconnects by itself.
public final class PostgresState: Sendable {
    /// What `stats` and the journal show.
    public struct Health: Sendable, Hashable {
        /// Whether the last operation reached the database (and the schema is migrated).
        public var available: Bool
        /// The schema version found, once checked.
        public var schemaVersion: Int?
        /// Why the last failed operation failed, while unavailable.
        public var lastError: String?
    }

    public let configuration: PostgresStateConfiguration
    /// Connections whose commits wait for the disk (PostgreSQL's default): what must survive
    /// a crash of the database server, as a send's "may have been sent" mark and the
    /// counting of its rate limit.
    let client: PostgresClient
    /// Connections whose commits do not wait for the disk (`synchronous_commit = off`): a
    /// crash of the server may lose their last fraction of a second, never half of one, and
    /// nothing they write needs more. A send's claim (lost, nothing was sent) and its outcome
    /// (lost, the record stays "may have been sent", as on one host) take one flush of the
    /// write-ahead log off every send; reads go here too. Measured: the default send waited
    /// for three flushes in a row before (claim, mark, the previous send's outcome).
    let fastClient: PostgresClient
    let logger: Logger
    /// The tables' names, with the prefix.
    let tables: PostgresTables
    /// The event loop of the database connections, which also times their operations.
    let eventLoopGroup: any EventLoopGroup
    private let health: Mutex<Health>
    /// Set once the schema is known to be this build's.
    private let ready = Atomic<Bool>(false)

    /// The database connections' own event loop (decision): one thread, apart from the
    /// daemon's. The daemon runs every client and SMTP connection on one event loop by
    /// default (`event_loop_threads = 1`), as SQLite's calls run on a thread of their own
    /// (`StateDatabase`), the protocol work of the database (encoding, decoding, the
    /// sockets' system calls) runs here, beside it, instead of taking turns with it. Measured
    /// with the default send on two cores: see the fleet rows of `scripts/bench.sh`.
    public static let databaseEventLoopGroup: MultiThreadedEventLoopGroup =
        MultiThreadedEventLoopGroup._makePerpetualGroup(threadNamePrefix: "STATE-DB-", numberOfThreads: 1)

    public init(
        configuration: PostgresStateConfiguration, logger: Logger,
        eventLoopGroup: any EventLoopGroup = PostgresState.databaseEventLoopGroup
    ) {
        self.configuration = configuration
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
        tables = PostgresTables(prefix: configuration.tablePrefix)
        health = Mutex(Health(available: false, schemaVersion: nil, lastError: "not connected yet"))
        var durable = PostgresClient.Configuration(
            host: configuration.host, port: configuration.port, username: configuration.username,
            password: configuration.password?.revealedValue, database: configuration.database,
            tls: Self.tls(configuration.tls))
        // No keep-alive query runs (decision): postgres-nio times it per idle connection, so
        // each statement's release armed a timer (a sleeping task on a Dispatch timer). The
        // server keeps idle connections alive instead: it sends TCP keep-alives
        // every 30 s (so that no NAT or firewall forgets one) and drops a peer that stops
        // answering. Connections are still opened on demand and closed after 60 s idle: a
        // pool that kept a minimum open also lost the idle timers, but postgres-nio 1.33
        // then trapped on a precondition when the database restarted (seen twice in full
        // test runs: a daemon died in the fleet's restart test), so it is not used.
        durable.options.maximumConnections = max(configuration.poolSize, 1)
        durable.options.keepAliveBehavior = nil
        durable.options.connectTimeout = configuration.statementTimeout
        durable.options.additionalStartupParameters = [
            ("application_name", "smtp-sidecar"),
            // The server gives up a statement the daemon has given up on.
            ("statement_timeout", "\(configuration.statementTimeout.wholeMilliseconds)"),
            ("tcp_keepalives_idle", "30"),
            ("tcp_keepalives_interval", "10"),
            ("tcp_keepalives_count", "3"),
        ]
        var fast = durable
        fast.options.additionalStartupParameters.append(("synchronous_commit", "off"))
        let quiet = Logger(label: "smtp-sidecar.postgres.disabled") { _ in SwiftLogNoOpLogHandler() }
        client = PostgresClient(configuration: durable, eventLoopGroup: eventLoopGroup, backgroundLogger: quiet)
        fastClient = PostgresClient(configuration: fast, eventLoopGroup: eventLoopGroup, backgroundLogger: quiet)
    }

    static func tls(_ mode: PostgresStateConfiguration.TLSMode) -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
    }

    /// The database's health now.
    public var currentHealth: Health { health.withLock { $0 } }

    /// Runs the connection pool, and migrates the schema once the database answers, until
    /// the task is cancelled. `maintain` runs beside it once the schema is ready (the
    /// stores' lease renewal), and is cancelled with it.
    public func run(maintain: @escaping @Sendable () async -> Void = {}) async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.client.run() }
            group.addTask { await self.fastClient.run() }
            group.addTask {
                var delay = Duration.milliseconds(250)
                while !Task.isCancelled {
                    do {
                        let (from, to) = try await self.migrate()
                        if from != to {
                            self.logger.notice("Migrated the shared state database's schema", metadata: [
                                "schema_version_from": "\(from)", "schema_version": "\(to)",
                            ])
                        }
                        self.logger.info("The shared state database is ready", metadata: [
                            "state_backend": "postgres", "postgres_host": "\(self.configuration.host)",
                            "postgres_port": "\(self.configuration.port)", "postgres_database": "\(self.configuration.database)",
                            "schema_version": "\(to)",
                        ])
                        break
                    } catch {
                        self.logger.warning("The shared state database is not ready; retrying", metadata: [
                            "error": "\(error)", "retry_in_ms": "\(delay.wholeMilliseconds)",
                        ])
                        try? await Task.sleep(for: delay)
                        delay = min(delay * 2, .seconds(30))
                    }
                }
                guard !Task.isCancelled else { return }
                await maintain()
            }
            // Cancellation of the caller's task reaches both children.
        }
    }

    /// Runs the connection pool alone, without migrating (the administration commands).
    public func runConnections() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.client.run() }
            group.addTask { await self.fastClient.run() }
        }
    }

    /// The schema version this build migrates to.
    public static var knownSchemaVersion: Int { PostgresSchema.currentVersion }

    /// Brings the schema to this build's version, in one transaction under an advisory lock
    /// (several hosts starting at once migrate once). Returns the versions before and after.
    /// Throws `schemaTooNew` when a newer build migrated it.
    @discardableResult
    public func migrate() async throws(PostgresStateError) -> (from: Int, to: Int) {
        let tables = tables
        let prefix = configuration.tablePrefix
        let result: (Int, Int) = try await bounded(timeout: max(configuration.statementTimeout, .seconds(30))) {
            try await self.client.withTransaction(logger: self.logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: self.logger)
                try await connection.query(
                    "CREATE TABLE IF NOT EXISTS \(unescaped: tables.schemaVersion) (version integer NOT NULL)", logger: self.logger)
                let found = try await Self.version(connection, tables: tables, logger: self.logger)
                let known = PostgresSchema.currentVersion
                guard found <= known else {
                    throw PostgresStateError(.schemaTooNew(found: found, known: known), "refusing to use it")
                }
                let migrations = PostgresSchema.migrations(prefix: prefix)
                for index in found..<known {
                    for statement in migrations[index] {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                    }
                }
                if found < known {
                    try await connection.query("DELETE FROM \(unescaped: tables.schemaVersion)", logger: self.logger)
                    try await connection.query(
                        "INSERT INTO \(unescaped: tables.schemaVersion) (version) VALUES (\(known))", logger: self.logger)
                }
                return (found, known)
            }
        }
        ready.store(true, ordering: .releasing)
        health.withLock { $0 = Health(available: true, schemaVersion: result.1, lastError: nil) }
        return (from: result.0, to: result.1)
    }

    /// The schema version the database holds (0: none), without changing anything.
    public func schemaVersion() async throws(PostgresStateError) -> Int {
        let tables = tables
        return try await bounded {
            try await self.client.withConnection { connection in
                let exists = try await connection.query(
                    "SELECT to_regclass(\(tables.schemaVersion)) IS NOT NULL", logger: self.logger
                ).collect().first?.decode(Bool.self) ?? false
                guard exists else { return 0 }
                return try await Self.version(connection, tables: tables, logger: self.logger)
            }
        }
    }

    private static func version(_ connection: PostgresConnection, tables: PostgresTables, logger: Logger) async throws -> Int {
        let rows = try await connection.query(
            "SELECT coalesce(max(version), 0) FROM \(unescaped: tables.schemaVersion)", logger: logger
        ).collect()
        return Int(try rows.first?.decode(Int32.self) ?? 0)
    }

    /// The key of the advisory lock that serializes migrations ("smtp-sidecar" in ASCII, folded).
    static let migrationLock: Int64 = 0x736D_7470_7369_6463

    // MARK: Bounded operations

    /// Runs `body` against the database, failing with `unavailable` when the schema is not
    /// ready yet, when the database cannot be reached, or when it does not finish within the
    /// statement timeout.
    func operation<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws(PostgresStateError) -> T {
        guard ready.load(ordering: .acquiring) else {
            throw PostgresStateError(.unavailable, currentHealth.lastError ?? "its schema is not checked yet")
        }
        return try await bounded(body)
    }

    /// Runs `body`, failing with `unavailable` when `timeout` (the statement timeout by
    /// default) passes first: see ``BoundedOperation`` for why the caller does not wait for
    /// the cancelled work. The timer is the database event loop's (decision): a task
    /// sleeping beside every statement cost a Dispatch timer a statement.
    func bounded<T: Sendable>(
        timeout: Duration? = nil, _ body: @escaping @Sendable () async throws -> T
    ) async throws(PostgresStateError) -> T {
        let limit = timeout ?? configuration.statementTimeout
        do {
            let value = try await BoundedOperation<T>.run(
                limit: limit, on: eventLoopGroup.any(),
                expired: { PostgresStateError(.unavailable, "no answer within \(limit.wholeMilliseconds) ms") }, body)
            health.withLock { health in
                if !health.available { health = Health(available: true, schemaVersion: health.schemaVersion, lastError: nil) }
            }
            return value
        } catch {
            let failure = Self.stateError(error)
            if failure.isUnavailable {
                health.withLock { $0.available = false; $0.lastError = failure.detail }
            }
            throw failure
        }
    }

    /// Any error of postgres-nio (or of a bound) as a coded value.
    static func stateError(_ error: any Error) -> PostgresStateError {
        switch error {
        case let error as PostgresStateError:
            return error
        case let error as PostgresTransactionError:
            return stateError(error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError ?? error)
        case let error as PSQLError:
            if error.code == .server, let sqlState = error.serverInfo?[.sqlState] {
                let message = error.serverInfo?[.message] ?? "no message"
                // 08: connection exception; 53: insufficient resources; 57P01-57P03: the
                // server is shutting down or starting; 57014: a statement cancelled (timeout).
                if sqlState.hasPrefix("08") || sqlState.hasPrefix("53") || sqlState.hasPrefix("57P") || sqlState == "57014" {
                    return PostgresStateError(.unavailable, message)
                }
                return PostgresStateError(.failed(sqlState: sqlState), message)
            }
            return PostgresStateError(.unavailable, Self.words(error.code))
        case is CancellationError:
            return PostgresStateError(.unavailable, "the operation was cancelled")
        default:
            return PostgresStateError(.unavailable, "\(type(of: error))")
        }
    }

    /// postgres-nio's client-side error codes, worded (its own description is generic on
    /// purpose, so that nothing sensitive is printed; these words are ours).
    static func words(_ code: PSQLError.Code) -> String {
        switch code {
        case .connectionError: "cannot connect"
        case .serverClosedConnection: "the server closed the connection"
        case .clientClosedConnection, .poolClosed: "the connection pool is closed"
        case .sslUnsupported: "the server does not offer TLS, which sslmode=require needs"
        case .unsupportedAuthMechanism, .authMechanismRequiresPassword, .saslError: "authentication failed"
        case .uncleanShutdown: "the connection was not closed cleanly"
        case .queryCancelled: "the statement was cancelled"
        default: "\(code)"
        }
    }
}
