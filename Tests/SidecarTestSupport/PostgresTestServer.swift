import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A real PostgreSQL 15 that `scripts/postgres-harness.sh` runs for the tests: its own data
/// directory, 127.0.0.1 on a random port, the non-superuser role `sidecar` with a random
/// password (SCRAM-SHA-256) and a database of the same name.
///
/// Most tests use ``shared()``, one server for the whole test process, and take a database
/// of their own with ``createDatabase(_:)``. A test that stops the server (an outage) starts
/// its own with ``startPrivate()`` and ends it with ``destroy()``. Every server is started
/// with `--owner-pid` of the test process and `--destroy-with-owner`: if the process dies,
/// the harness's watchdog stops the server and removes its directory.
///
/// Everything the harness script does runs in a child process whose end is awaited through
/// its termination handler (``ChildProcess``), so no thread of the cooperative pool blocks.
public final class PostgresTestServer: Sendable {
    /// The harness directory (`DIR` of the script).
    public let directory: String
    public let host: String
    public let port: Int
    public let user: String
    public let database: String
    /// The file that holds the password: exactly the password, no newline, mode 0644.
    public let passwordFile: String
    public let password: String
    /// The superuser's Unix socket directory (trust, for the harness's own use).
    public let socketDirectory: String
    /// `postgres://sidecar@127.0.0.1:PORT/sidecar`, without the password.
    public let url: String
    /// Whether this is the process's shared server, which ``stop()`` refuses to stop.
    public let isShared: Bool

    private init(directory: String, environment: [String: String], isShared: Bool) throws {
        func value(_ name: String) throws -> String {
            guard let value = environment[name], !value.isEmpty else {
                throw TestEnvironmentError("\(directory)/postgres.env has no \(name)")
            }
            return value
        }
        self.directory = directory
        host = try value("PG_HOST")
        guard let port = Int(try value("PG_PORT")) else {
            throw TestEnvironmentError("\(directory)/postgres.env: PG_PORT is not a number")
        }
        self.port = port
        user = try value("PG_USER")
        database = try value("PG_DATABASE")
        passwordFile = try value("PG_PASSWORD_FILE")
        password = try String(contentsOfFile: passwordFile, encoding: .utf8)
        socketDirectory = try value("PG_SOCKET_DIR")
        url = try value("PG_URL")
        self.isShared = isShared
    }

    // MARK: Starting

    /// The test process's one shared server, started on first use. A failed start is not
    /// retried: every later caller gets the same error.
    public static func shared() async throws -> PostgresTestServer {
        let start = sharedStart.withLock { start in
            if let start { return start }
            let new = Task { try await launch(isShared: true) }
            start = new
            return new
        }
        return try await start.value
    }

    /// A server of the calling test's own, for tests that stop and start it. End it with
    /// ``destroy()``; if the test process dies first, the harness's watchdog does.
    public static func startPrivate() async throws -> PostgresTestServer {
        try await launch(isShared: false)
    }

    private static let sharedStart = Mutex<Task<PostgresTestServer, any Error>?>(nil)

    /// Two servers start at a time: initdb is a few seconds of CPU, and the tests running
    /// alongside should not feel many at once.
    private static let starts = StartPermits(2)

    /// `scripts/postgres-harness.sh` in this repository.
    public static var script: String {
        get throws { try TestEnvironment.repositoryRoot().appendingPathComponent("scripts/postgres-harness.sh").path }
    }

    /// Whether Debian's PostgreSQL 15 is installed (scripts/install-deps.sh installs it).
    public static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/15/bin/initdb")
    }

    private static func launch(isShared: Bool) async throws -> PostgresTestServer {
        let script = try script
        let directory = try TestEnvironment.temporaryDirectory().path
        do {
            _ = try await starts.withPermit {
                try await run(
                    script, ["start", directory, "--owner-pid", String(getpid()), "--destroy-with-owner"],
                    timeout: .seconds(180))
            }
            return try PostgresTestServer(directory: directory, environment: readEnvironment(directory), isShared: isShared)
        } catch {
            _ = try? await run(script, ["destroy", directory], timeout: .seconds(60))
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    private static func readEnvironment(_ directory: String) throws -> [String: String] {
        let text = try String(contentsOfFile: "\(directory)/postgres.env", encoding: .utf8)
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { values[parts[0]] = parts[1] }
        }
        return values
    }

    // MARK: Using

    /// The URL of another database on this server (without the password).
    public func url(database: String) -> String {
        "postgres://\(user)@\(host):\(port)/\(database)"
    }

    /// A fresh database `name` owned by ``user``, for one test's isolation. `name` is
    /// `[A-Za-z_][A-Za-z0-9_-]{0,62}`; the harness refuses anything else.
    public func createDatabase(_ name: String) async throws {
        try await Self.run(try Self.script, ["createdb", directory, name])
    }

    /// Runs psql as the superuser over the Unix socket (`postgres-harness.sh psql DIR ARGS`),
    /// with ON_ERROR_STOP, and returns its standard output.
    @discardableResult
    public func superuserPSQL(_ arguments: [String]) async throws -> String {
        try await Self.run(try Self.script, ["psql", directory] + arguments).stdout
    }

    /// Whether the server is running (`postgres-harness.sh status`).
    public func isRunning() async throws -> Bool {
        let outcome = try await ChildProcess.run(try Self.script, ["status", directory])
        switch outcome.status {
        case 0: return true
        case 3: return false
        default: throw TestEnvironmentError("postgres-harness.sh status \(directory) failed: \(outcome.summary)")
        }
    }

    /// The server's log so far.
    public var log: String {
        (try? String(contentsOfFile: "\(directory)/log/postgres.log", encoding: .utf8)) ?? ""
    }

    // MARK: Outages

    /// Stops the server (fast shutdown: sessions are ended, then it waits for the exit).
    /// Only a private server: stopping the shared one would fail the tests running alongside.
    public func stop() async throws {
        guard !isShared else {
            throw TestEnvironmentError("stop() on the shared PostgreSQL server; use PostgresTestServer.startPrivate()")
        }
        try await Self.run(try Self.script, ["stop", directory])
    }

    /// Starts the server again on the same port, with the same password and data; returns
    /// when it accepts connections. Throws if another process took the port meanwhile.
    public func start() async throws {
        try await Self.run(try Self.script, ["start", directory], timeout: .seconds(120))
        let restartedPort = Int(try Self.readEnvironment(directory)["PG_PORT"] ?? "")
        guard restartedPort == port else {
            throw TestEnvironmentError("PostgreSQL in \(directory) came back on port \(restartedPort ?? 0), not \(port)")
        }
    }

    /// Stops a private server and removes its directory, in the background: this returns at
    /// once (so it fits a `defer`), and the harness finishes by itself even if the test
    /// process exits first. Does nothing to the shared server.
    public func destroy() {
        guard !isShared, let script = try? Self.script else { return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: script)
        process.arguments = ["destroy", directory]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try? process.run()
    }

    /// Runs the harness script to its end without blocking a thread; throws with its output
    /// when it fails.
    @discardableResult
    private static func run(
        _ script: String, _ arguments: [String], timeout: Duration = .seconds(60)
    ) async throws -> ChildProcess.Outcome {
        let outcome = try await ChildProcess.run(script, arguments, timeout: timeout)
        guard outcome.status == 0 else {
            throw TestEnvironmentError("postgres-harness.sh \(arguments.joined(separator: " ")) failed: \(outcome.summary)")
        }
        return outcome
    }
}
