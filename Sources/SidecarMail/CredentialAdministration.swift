import FoundationEssentials
import SidecarCore
import SidecarProtocol
import SidecarState

/// The daemon's encrypted credential store as an administrator edits it in place (the
/// `credentials` subcommand, run as the daemon's user with its configuration and key).
/// Errors are the store's, worded as the wire words them (`invalid_params` for an id
/// already used in the workspace, `credential_not_found`, `internal_error` for a database
/// that cannot be written).
public struct CredentialAdministration: Sendable {
    let store: CredentialStore

    /// The store in `configuration`'s state directory, under its credential key
    /// (`credential_key_file`, else the systemd credential `smtp-sidecar.key`); nil when
    /// there is no key.
    ///
    /// - Throws: `invalid_configuration` when the key or the state database cannot be opened.
    public init?(configuration: MailConfiguration) throws(SidecarError) {
        guard let key = try PolicySetup.credentialKey(configuration) else { return nil }
        store = CredentialStore(database: try PolicySetup.database(configuration), key: key)
    }

    /// Stores a new credential for `workspace`; `id` defaults to a random UUID.
    @discardableResult
    public func add(
        workspace: String, label: String, credential: CredentialParams, oauth: OAuthSettings? = nil, id: String? = nil,
        now: Date = Date()
    ) throws -> CredentialSummary {
        try Self.worded {
            CredentialSummary(try store.add(workspace: workspace, label: label, credential: credential, oauth: oauth, id: id, now: now))
        }
    }

    /// The stored credentials, of one workspace or of all.
    public func list(workspace: String? = nil) throws -> [CredentialSummary] {
        try Self.worded { try store.list(workspace: workspace).map(CredentialSummary.init) }
    }

    public func remove(id: String, workspace: String) throws {
        try Self.worded { try store.remove(id: id, workspace: workspace) }
    }

    /// Replaces a stored credential's fields and secret.
    @discardableResult
    public func rotate(
        id: String, workspace: String, credential: CredentialParams, oauth: OAuthSettings? = nil, now: Date = Date()
    ) throws -> CredentialSummary {
        try Self.worded {
            CredentialSummary(try store.rotate(id: id, workspace: workspace, credential: credential, oauth: oauth, now: now))
        }
    }

    /// Writes a new random 256-bit key file at `path` (mode 0600; never overwrites one).
    ///
    /// - Returns: how the key describes itself (its id, never its bytes).
    public static func generateKeyFile(at path: String) throws -> String {
        try worded { "\(try CredentialKey.generateKeyFile(at: path))" }
    }

    /// Runs `body`, throwing the store's errors as the wire words them; any other as it is.
    private static func worded<Result>(_ body: () throws -> Result) throws -> Result {
        do {
            return try body()
        } catch {
            throw SidecarError(state: error) ?? error
        }
    }
}
