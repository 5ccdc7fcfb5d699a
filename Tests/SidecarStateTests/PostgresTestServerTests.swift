import Foundation
import SidecarTestSupport
import Testing

/// The PostgreSQL test harness itself (scripts/postgres-harness.sh through
/// ``PostgresTestServer``), against the real server: what the state backend's tests will
/// rely on, checked with Debian's psql as an independent client.
@Suite("PostgresTestServer")
struct PostgresTestServerTests {
    /// Runs `SQL` with psql as `server.user` over TCP with `password`, returning the outcome.
    static func psqlOverTCP(
        _ server: PostgresTestServer, database: String, password: String, _ sql: String
    ) async throws -> ChildProcess.Outcome {
        try await ChildProcess.run(
            "/usr/lib/postgresql/15/bin/psql",
            ["-X", "-q", "-At", "-h", server.host, "-p", String(server.port), "-U", server.user, "-d", database, "-c", sql],
            environment: [
                "PGPASSWORD": password, "PGCONNECT_TIMEOUT": "10", "PGPASSFILE": "/dev/null",
                "PGSERVICE": nil, "PGSSLMODE": nil, "PGOPTIONS": nil,
            ],
            timeout: .seconds(30))
    }

    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)_\(UInt32.random(in: 0...UInt32.max))_\(getpid())"
    }

    @Test("the shared server: a fresh database, reached over TCP with the password, and not without it")
    func sharedServerDatabaseOverTCP() async throws {
        let server = try await PostgresTestServer.shared()
        #expect(server.host == "127.0.0.1")
        #expect(server.user == "sidecar")
        #expect(server.url == "postgres://sidecar@127.0.0.1:\(server.port)/sidecar")
        #expect(try String(contentsOfFile: server.passwordFile, encoding: .utf8) == server.password)
        #expect(server.password.count == 48 && !server.password.contains("\n"))

        let name = Self.uniqueName("harness")
        try await server.createDatabase(name)
        let connected = try await Self.psqlOverTCP(
            server, database: name, password: server.password,
            "create table t (x int); insert into t values (7); select current_user, current_database(), x from t")
        #expect(connected.status == 0, "\(connected.summary)")
        #expect(connected.stdout == "sidecar|\(name)|7\n")

        let refused = try await Self.psqlOverTCP(server, database: name, password: "not-\(server.password)", "select 1")
        #expect(refused.status != 0)
        #expect(refused.stderr.contains(#"password authentication failed for user "sidecar""#), "\(refused.summary)")

        // The role is an ordinary one: the daemon must not need a superuser.
        let superuser = try await server.superuserPSQL(["-At", "-c", "select rolsuper from pg_roles where rolname = 'sidecar'"])
        #expect(superuser == "f\n")
    }

    @Test("shared() is one server per test process, and stop() refuses to stop it")
    func sharedIsShared() async throws {
        let first = try await PostgresTestServer.shared()
        let second = try await PostgresTestServer.shared()
        #expect(first === second)
        #expect(try await first.isRunning())
        await #expect(throws: (any Error).self) { try await first.stop() }
        #expect(try await first.isRunning())
    }

    @Test("a private server stops, refuses connections, and starts again on the same port with its data")
    func privateServerOutage() async throws {
        let server = try await PostgresTestServer.startPrivate()
        defer { server.destroy() }
        let shared = try await PostgresTestServer.shared()
        #expect(server.directory != shared.directory)
        #expect(server.port != shared.port)

        let before = try await Self.psqlOverTCP(
            server, database: server.database, password: server.password,
            "create table kept (x int); insert into kept values (42); select x from kept")
        #expect(before.stdout == "42\n", "\(before.summary)")

        try await server.stop()
        #expect(try await server.isRunning() == false)
        let during = try await Self.psqlOverTCP(server, database: server.database, password: server.password, "select 1")
        #expect(during.status != 0)
        #expect(during.stderr.contains("Connection refused"), "\(during.summary)")

        // start() throws unless the server came back on its port, and psql below goes to
        // the port from before the outage.
        try await server.start()
        #expect(try await server.isRunning())
        let after = try await Self.psqlOverTCP(server, database: server.database, password: server.password, "select x from kept")
        #expect(after.status == 0, "\(after.summary)")
        #expect(after.stdout == "42\n")

        server.destroy()
        let deadline = ContinuousClock.now + .seconds(30)
        while FileManager.default.fileExists(atPath: server.directory), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(!FileManager.default.fileExists(atPath: server.directory), "destroy() removes the directory")
        let gone = try await Self.psqlOverTCP(server, database: server.database, password: server.password, "select 1")
        #expect(gone.status != 0)
    }
}
