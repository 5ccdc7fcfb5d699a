import Foundation
import Logging
import SidecarCore
import SidecarState
import SidecarStatePostgres
import SidecarTestSupport
import Testing

/// The dedup store's statements are prepared only on the default table names; with another
/// `postgres_table_prefix` the same statements go whole, on that prefix's tables. Both
/// paths, side by side in one database: claim, mark, record, answer a duplicate.
@Suite("PostgreSQL table prefix")
struct PostgresTablePrefixTests {
    @Test("a send's record goes through the same steps with the default prefix and another", arguments: [
        PostgresStateConfiguration.defaultTablePrefix, "custom_fleet_",
    ])
    func recordsOnEitherPrefix(prefix: String) async throws {
        let server = try await PostgresTestServer.shared()
        let database = "prefix_\(UUID().uuidString.prefix(8).lowercased())"
        try await server.createDatabase(database)
        let configuration = PostgresStateConfiguration(
            host: server.host, port: server.port, username: server.user, database: database,
            password: Secret(server.password), tls: .disable, poolSize: 1, statementTimeout: .seconds(10),
            tablePrefix: prefix, lease: .seconds(15))
        try await RunningPostgresState.with(configuration) { state in
            let store = PostgresDedupStore(state: state)
            for round in 0..<3 {  // later rounds run the prepared statements already prepared
                let key = "key-\(round)"
                guard case .proceed(let ticket) = try await store.begin(key: key, window: .seconds(60), deadline: nil) else {
                    Issue.record("round \(round): the free key was not claimed")
                    return
                }
                #expect(try await store.markPending(ticket))
                #expect(try await store.complete(ticket, resultJSON: #"{"round":\#(round)}"#, countsAsSent: true))
                let again = try await store.begin(key: key, window: .seconds(60), deadline: nil)
                #expect(again == .duplicate(resultJSON: #"{"round":\#(round)}"#))
            }
            let rows = try await server.superuserPSQL([
                "-d", database, "-At", "-c", "SELECT count(*) FROM \(prefix)dedup WHERE state = 'done'",
            ])
            #expect(rows == "3\n")
        }
    }
}
