import Foundation
import Logging
import SidecarCore
import SidecarState
import SidecarStatePostgres
import SidecarTestSupport
import Testing

/// A database that stops answering (every process of a private PostgreSQL stopped with
/// SIGSTOP: connections stay open, statements go unanswered, as on a hung host or a
/// network partition) fails each operation with `unavailable` once the statement timeout
/// passes, never later, and the next operations succeed once it answers again.
@Suite("PostgreSQL that stops answering")
struct PostgresStallTests {
    /// The postmaster's process id and its children's (the sessions' backends).
    static func processes(of server: PostgresTestServer) async throws -> [String] {
        let pidFile = try String(contentsOfFile: "\(server.directory)/data/postmaster.pid", encoding: .utf8)
        let postmaster = try #require(pidFile.split(separator: "\n").first.map(String.init))
        let children = try await ChildProcess.run("/usr/bin/pgrep", ["-P", postmaster])
        return [postmaster] + children.stdout.split(separator: "\n").map(String.init)
    }

    static func signal(_ name: String, _ pids: [String]) async throws {
        let outcome = try await ChildProcess.run("/bin/kill", ["-\(name)"] + pids)
        #expect(outcome.status == 0, "\(outcome.summary)")
    }

    /// Runs `body` until it does not fail with `unavailable`, for at most `limit`.
    static func untilAnswered(within limit: Duration, _ body: () async throws -> Void) async throws {
        let deadline = ContinuousClock.now + limit
        while true {
            do {
                return try await body()
            } catch let error as PostgresStateError where error.isUnavailable && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    @Test("a stalled server fails an operation at the statement timeout; it recovers when the server answers")
    func stalledServerIsBoundedByTheStatementTimeout() async throws {
        let server = try await PostgresTestServer.startPrivate()
        defer { server.destroy() }
        let configuration = PostgresStateConfiguration(
            host: server.host, port: server.port, username: server.user, database: server.database,
            password: Secret(server.password), tls: .disable, poolSize: 2, statementTimeout: .milliseconds(500),
            lease: .seconds(15))
        try await RunningPostgresState.with(configuration) { state in
            let store = PostgresDedupStore(state: state)
            // A connection is open (the first statement opened it), then the server stops answering.
            // On a loaded machine a fresh connection's first statement may itself take more
            // than the limit: wait until one answers in time.
            try await Self.untilAnswered(within: .seconds(60)) {
                _ = try await store.begin(key: "before", window: .seconds(60), deadline: nil)
            }
            let pids = try await Self.processes(of: server)
            try await Self.signal("STOP", pids)
            var resumed = false
            defer { if !resumed { Task { try? await Self.signal("CONT", pids) } } }

            for attempt in 0..<3 {
                let started = ContinuousClock.now
                let error = await #expect(throws: PostgresStateError.self) {
                    _ = try await store.begin(key: "stalled-\(attempt)", window: .seconds(60), deadline: nil)
                }
                let waited = started.duration(to: .now)
                #expect(error?.isUnavailable == true, "\(String(describing: error))")
                // An answer while the server is still stopped (it never answers): the bound
                // held. Not before the limit; the upper bound is loose, because the answer
                // then waits for a thread of this process, and in a full CI run other tests
                // held those for as long as 10 s.
                #expect(waited >= .milliseconds(450) && waited < .seconds(30), "attempt \(attempt) waited \(waited)")
            }
            #expect(state.currentHealth.available == false)

            try await Self.signal("CONT", pids)
            resumed = true
            try await Self.untilAnswered(within: .seconds(60)) {
                _ = try await store.begin(key: "after", window: .seconds(60), deadline: nil)
            }
            #expect(state.currentHealth.available)
        }
    }
}
