import FoundationEssentials
import Logging
import SidecarCore
import SidecarStatePostgres

/// `smtp-sidecar state migrate` and `state check`: the shared database of
/// `state_backend = postgres`, reached with the daemon's configuration.
public struct StateAdministration: Sendable {
    /// What `state check` found.
    public struct Report: Sendable {
        public var backend: String
        /// Where, without the password: `postgres://user@host:port/database`.
        public var location: String
        public var schemaVersion: Int
        public var knownSchemaVersion: Int
        /// One round trip to the database.
        public var latency: Duration
    }

    let configuration: MailConfiguration
    let logger: Logger

    public init(configuration: MailConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Applies the migrations this build knows and the database lacks. Returns the schema
    /// versions before and after.
    public func migrate() async throws(SidecarError) -> (from: Int, to: Int) {
        try await withState { state throws(PostgresStateError) in try await state.migrate() }
    }

    /// Connects, reads the schema version, and compares it with this build's.
    public func check() async throws(SidecarError) -> Report {
        let postgres = try PolicySetup.postgres(configuration)
        return try await withState { state throws(PostgresStateError) in
            let started = ContinuousClock.now
            let version = try await state.schemaVersion()
            return Report(
                backend: "postgres",
                location: "postgres://\(postgres.username)@\(postgres.host):\(postgres.port)/\(postgres.database)",
                schemaVersion: version, knownSchemaVersion: PostgresState.knownSchemaVersion,
                latency: ContinuousClock.now - started)
        }
    }

    private func withState<T: Sendable>(
        _ body: @escaping @Sendable (PostgresState) async throws(PostgresStateError) -> T
    ) async throws(SidecarError) -> T {
        guard configuration.stateBackend == .postgres else {
            throw SidecarError(
                code: .invalidConfiguration,
                message: "state_backend is sqlite: the state database in \(configuration.stateDirectory) is migrated "
                    + "when it is opened; set state_backend = postgres and postgres_url for a shared database.")
        }
        let state = PostgresState(configuration: try PolicySetup.postgres(configuration), logger: logger)
        let result: Result<T, PostgresStateError> = await withTaskGroup(of: Result<T, PostgresStateError>?.self) { group in
            group.addTask {
                await state.runConnections()
                return nil
            }
            group.addTask {
                do throws(PostgresStateError) {
                    return .success(try await body(state))
                } catch {
                    return .failure(error)
                }
            }
            defer { group.cancelAll() }
            while let next = await group.next() {
                if let next { return next }
            }
            return .failure(PostgresStateError(.unavailable, "stopped"))
        }
        do {
            return try result.get()
        } catch {
            throw SidecarError(error)
        }
    }
}
