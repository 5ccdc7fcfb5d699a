import Foundation
import Logging
import SidecarCore
import SidecarState
import SidecarStatePostgres
import SidecarTestSupport
import Synchronization
import Testing

/// The two state backends the contract suite runs against: this host's SQLite database,
/// and a real PostgreSQL (`scripts/postgres-harness.sh`), a fresh database per test.
enum StateBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }
}

/// A wall clock that moves only when a test says so.
final class ManualWallClock: Sendable {
    private let now: Mutex<Date>

    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        now = Mutex(start)
    }

    func callAsFunction() -> Date { now.withLock { $0 } }

    func advance(by seconds: Double) {
        now.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}

/// One test's stores on one backend. ``makeDedup(clock:lease:)`` gives another "process"
/// on the same records (another host, for PostgreSQL).
struct StateStores: Sendable {
    let backend: StateBackend
    let makeDedup: @Sendable (_ clock: ManualWallClock, _ dead: Bool) -> any DedupStoring
    let makeLimiter: @Sendable () -> any RateLimiting
    let makeCredentials: @Sendable (CredentialKey) -> any CredentialStoring
    /// Makes a dead sender's records look dead to the others: SQLite's owner identity is a
    /// dead process's at once; a PostgreSQL lease must run out (the clock moves past it).
    let lease: TimeInterval
    /// Re-reads what other hosts wrote into a limiter's memory (spent quotas).
    let refresh: @Sendable (any RateLimiting) async throws -> Void
    /// What a live sender does while time passes: renews its leases (PostgreSQL).
    let renew: @Sendable (any DedupStoring) async throws -> Void
}

extension StateBackend {
    /// Runs `body` with fresh stores on this backend, and tears them down.
    func withStores(_ body: (StateStores) async throws -> Void) async throws {
        switch self {
        case .sqlite:
            let directory = try TemporaryStateDirectory()
            let database = try directory.open()
            let boot = try String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let stores = StateStores(
                backend: self,
                makeDedup: { clock, dead in
                    DedupStore(
                        database: database, pollInterval: .milliseconds(20),
                        identity: dead ? ProcessIdentity(owner: "linux:\(boot):1:1") : ProcessIdentity(owner: "test:\(UUID())"),
                        clock: { clock() })
                },
                makeLimiter: { RateLimiter(database: database) },
                makeCredentials: { CredentialStore(database: database, key: $0) }, lease: 0, refresh: { _ in }, renew: { _ in })
            try await body(stores)
            _ = directory
        case .postgres:
            let server = try await PostgresTestServer.shared()
            let name = "contract_\(UUID().uuidString.prefix(8).lowercased())"
            try await server.createDatabase(name)
            // One connection of each kind: every contract test runs at once against the one
            // server (stock max_connections, 100).
            let configuration = PostgresStateConfiguration(
                host: server.host, port: server.port, username: server.user, database: name,
                password: Secret(server.password), tls: .disable, poolSize: 1, statementTimeout: .seconds(10),
                lease: .seconds(15))
            try await RunningPostgresState.with(configuration) { state in
                let stores = StateStores(
                    backend: self,
                    makeDedup: { clock, _ in
                        PostgresDedupStore(state: state, pollInterval: .milliseconds(20), clock: { clock() })
                    },
                    makeLimiter: { PostgresRateLimiter(state: state) },
                    makeCredentials: { PostgresCredentialStore(state: state, key: $0) }, lease: 15,
                    refresh: { limiter in try await (limiter as? PostgresRateLimiter)?.refreshExhaustion(now: Date()) },
                    renew: { store in try await (store as? PostgresDedupStore)?.maintain() })
                try await body(stores)
            }
        }
    }
}
