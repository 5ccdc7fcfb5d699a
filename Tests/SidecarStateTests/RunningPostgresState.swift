import Logging
import SidecarStatePostgres

/// A ``PostgresState`` running (its connections, and its migrations once the server
/// answers) for the length of a test's body, which starts once the state is ready.
enum RunningPostgresState {
    static func with<Result>(
        _ configuration: PostgresStateConfiguration, _ body: (PostgresState) async throws -> Result
    ) async throws -> Result {
        let state = PostgresState(configuration: configuration, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await state.run() }
            defer { group.cancelAll() }
            let ready = ContinuousClock.now + .seconds(60)
            while !state.currentHealth.available {
                guard ContinuousClock.now < ready else { throw TestFailure("PostgreSQL did not become ready") }
                try await Task.sleep(for: .milliseconds(20))
            }
            return try await body(state)
        }
    }
}
