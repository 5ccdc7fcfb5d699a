import FoundationEssentials

/// Where stored credentials live: this host's state database (``CredentialStore``, SQLite)
/// or a database a fleet shares (`PostgresCredentialStore`). Both seal every payload the
/// same way (AES-256-GCM under the ``CredentialKey``, the workspace and id authenticated),
/// so neither database ever holds a secret in clear, and both answer a credential of
/// another workspace exactly as a missing one.
public protocol CredentialStoring: Sendable {
    /// Stores a new credential; an id already used in the workspace is refused
    /// (``CredentialStoreError/Code/duplicateID``). `id` defaults to a random UUID.
    @discardableResult
    func add(
        workspace: String, label: String, host: String, port: Int?, username: String?, payload: CredentialPayload,
        id: String?, now: Date
    ) async throws -> CredentialMetadata

    /// The credential `id` of `workspace`, decrypted.
    func get(id: String, workspace: String) async throws -> StoredCredential

    /// Metadata of every credential, or of one workspace's. Decrypts nothing.
    func list(workspace: String?) async throws -> [CredentialMetadata]

    func remove(id: String, workspace: String) async throws

    /// Replaces the credential's payload (host, port and username may change too).
    @discardableResult
    func rotate(
        id: String, workspace: String, host: String, port: Int?, username: String?, payload: CredentialPayload, now: Date
    ) async throws -> CredentialMetadata

    /// Records how an access-token refresh of the OAuth credential `id` went.
    func recordTokenRefresh(id: String, workspace: String, expires: Date?, failure: String?, now: Date) async throws
}

extension CredentialStore: CredentialStoring {}
