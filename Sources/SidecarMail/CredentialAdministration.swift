import FoundationEssentials
import SidecarCore
import SidecarState

/// The daemon's encrypted credential store as an administrator edits it in place (the
/// `credentials` subcommand, run as the daemon's user with its configuration and key).
/// Errors are the store's: an id already used in the workspace, a credential not found, a
/// database that cannot be written.
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
        workspace: String, label: String, fields: CredentialFields, id: String? = nil, now: Date = Date()
    ) throws -> CredentialSummary {
        CredentialSummary(try store.add(workspace: workspace, label: label, secret: fields.secret, id: id, now: now))
    }

    /// The stored credentials, of one workspace or of all.
    public func list(workspace: String? = nil) throws -> [CredentialSummary] {
        try store.list(workspace: workspace).map(CredentialSummary.init)
    }

    public func remove(id: String, workspace: String) throws {
        try store.remove(id: id, workspace: workspace)
    }

    /// Replaces a stored credential's fields and secret.
    @discardableResult
    public func rotate(id: String, workspace: String, fields: CredentialFields, now: Date = Date()) throws
        -> CredentialSummary
    {
        CredentialSummary(try store.rotate(id: id, workspace: workspace, secret: fields.secret, now: now))
    }

    /// Writes a new random 256-bit key file at `path` (mode 0600; never overwrites one).
    ///
    /// - Returns: how the key describes itself (its id, never its bytes).
    public static func generateKeyFile(at path: String) throws -> String {
        "\(try CredentialKey.generateKeyFile(at: path))"
    }
}
