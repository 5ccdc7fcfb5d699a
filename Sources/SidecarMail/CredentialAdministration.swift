import FoundationEssentials
import Logging
import SidecarCore
import SidecarProtocol
import SidecarState
import SidecarStatePostgres

/// The daemon's encrypted credential store as an administrator edits it in place (the
/// `credentials` subcommand, run as the daemon's user with its configuration and key).
/// Errors are the store's, worded as the wire words them (`invalid_params` for an id
/// already used in the workspace, `credential_not_found`, `internal_error` for a database
/// that cannot be written).
public struct CredentialAdministration: Sendable {
    let store: any CredentialStoring
    /// The shared database holding the store, with `state_backend = postgres`.
    let shared: PostgresState?

    /// The store of `configuration`'s backend (the state directory's database, or the shared
    /// PostgreSQL database of `state_backend = postgres`), under its credential key
    /// (`credential_key_file`, else the systemd credential `smtp-sidecar.key`); nil when
    /// there is no key.
    ///
    /// - Throws: `invalid_configuration` when the key or the state database cannot be opened.
    public init?(configuration: MailConfiguration) throws(SidecarError) {
        guard let key = try PolicySetup.credentialKey(configuration) else { return nil }
        switch configuration.stateBackend {
        case .sqlite:
            store = CredentialStore(database: try PolicySetup.database(configuration), key: key)
            shared = nil
        case .postgres:
            let state = PostgresState(
                configuration: try PolicySetup.postgres(configuration), logger: Logger(label: "smtp-sidecar") { _ in SwiftLogNoOpLogHandler() })
            store = PostgresCredentialStore(state: state, key: key)
            shared = state
        }
    }

    /// Stores a new credential for `workspace`; `id` defaults to a random UUID.
    @discardableResult
    public func add(
        workspace: String, label: String, credential: CredentialParams, oauth: OAuthSettings? = nil, id: String? = nil,
        now: Date = Date()
    ) async throws -> CredentialSummary {
        try await worded {
            CredentialSummary(
                try await store.add(workspace: workspace, label: label, credential: credential, oauth: oauth, id: id, now: now),
                limits: credential.limits)
        }
    }

    /// The stored credentials, of one workspace or of all, each with the limits sealed in
    /// its record (one that does not open under the key is listed with ``CredentialSummary/opened`` false).
    public func list(workspace: String? = nil) async throws -> [CredentialSummary] {
        try await worded {
            var summaries: [CredentialSummary] = []
            for metadata in try await store.list(workspace: workspace) {
                do {
                    let stored = try await store.storedCredential(id: metadata.id, workspace: metadata.workspace)
                    summaries.append(CredentialSummary(metadata, limits: stored.params.limits))
                } catch let error as CredentialStoreError where error.code == .notFound {
                    // Removed since it was listed.
                } catch is CredentialStoreError {
                    summaries.append(CredentialSummary(metadata, limits: nil, opened: false))
                }
            }
            return summaries
        }
    }

    public func remove(id: String, workspace: String) async throws {
        try await worded { try await store.remove(id: id, workspace: workspace) }
    }

    /// Replaces a stored credential's fields and secret.
    ///
    /// - Parameter keepingLimits: keep the limits the record holds, whatever
    ///   `credential.limits` says (rotating a password must not drop them). The record is
    ///   read first, so one that does not open under the key cannot be rotated this way.
    @discardableResult
    public func rotate(
        id: String, workspace: String, credential: CredentialParams, oauth: OAuthSettings? = nil, keepingLimits: Bool = false,
        now: Date = Date()
    ) async throws -> CredentialSummary {
        try await worded {
            var credential = credential
            if keepingLimits {
                credential.limits = try await store.storedCredential(id: id, workspace: workspace).params.limits
            }
            return CredentialSummary(
                try await store.rotate(id: id, workspace: workspace, credential: credential, oauth: oauth, now: now),
                limits: credential.limits)
        }
    }

    /// Writes a new random 256-bit key file at `path` (mode 0600; never overwrites one).
    ///
    /// - Returns: how the key describes itself (its id, never its bytes).
    public static func generateKeyFile(at path: String) throws -> String {
        do {
            return "\(try CredentialKey.generateKeyFile(at: path))"
        } catch {
            throw SidecarError(state: error) ?? error
        }
    }

    /// Runs `body` (with the shared database's connections while it runs, its schema
    /// migrated first), throwing the store's errors as the wire words them; any other as it is.
    private func worded<Result: Sendable>(_ body: @escaping @Sendable () async throws -> Result) async throws -> Result {
        do {
            guard let shared else { return try await body() }
            return try await withThrowingTaskGroup(of: Result?.self) { group in
                group.addTask {
                    await shared.runConnections()
                    return nil
                }
                group.addTask {
                    try await shared.migrate()
                    return try await body()
                }
                defer { group.cancelAll() }
                while let next = try await group.next() {
                    if let next { return next }
                }
                throw CancellationError()
            }
        } catch {
            throw SidecarError(state: error) ?? error
        }
    }
}
