import FoundationEssentials
import SidecarProtocol
import SidecarState

extension CredentialStore {
    /// Stores `credential` for `workspace`: its fields sealed (``CredentialParams/storedPayload()``),
    /// its host, port and username in the clear for listing. Throws the store's errors
    /// (``SidecarError/init(state:)`` words them).
    @discardableResult
    public func add(workspace: String, label: String, credential: CredentialParams, id: String? = nil, now: Date) throws
        -> CredentialMetadata
    {
        try add(
            workspace: workspace, label: label, host: credential.host, port: credential.port, username: credential.username,
            payload: try credential.storedPayload(), id: id, now: now)
    }

    /// Replaces the stored credential `id` with `credential` (a new password or token; host,
    /// port and username may change too).
    @discardableResult
    public func rotate(id: String, workspace: String, credential: CredentialParams, now: Date) throws -> CredentialMetadata {
        try rotate(
            id: id, workspace: workspace, host: credential.host, port: credential.port, username: credential.username,
            payload: try credential.storedPayload(), now: now)
    }

    /// The stored credential `id` of `workspace`, in the request's terms.
    func credential(id: String, workspace: String) throws -> CredentialParams {
        let stored = try get(id: id, workspace: workspace)
        return try CredentialParams(storedPayload: stored.payload, id: stored.metadata.id)
    }
}
