import FoundationEssentials
import SidecarCore
import SidecarProtocol
import SidecarState

extension CredentialStoring {
    /// Stores `credential` for `workspace`: its fields sealed (``CredentialParams/storedPayload()``),
    /// its host, port and username in the clear for listing. Throws the store's errors
    /// (``SidecarError/init(state:)`` words them).
    @discardableResult
    public func add(
        workspace: String, label: String, credential: CredentialParams, oauth: OAuthSettings? = nil, id: String? = nil,
        now: Date
    ) async throws -> CredentialMetadata {
        try await add(
            workspace: workspace, label: label, host: credential.host, port: credential.port, username: credential.username,
            payload: try credential.storedPayload(oauth: oauth), id: id, now: now)
    }

    /// Replaces the stored credential `id` with `credential` (a new password or token; host,
    /// port and username may change too).
    @discardableResult
    public func rotate(
        id: String, workspace: String, credential: CredentialParams, oauth: OAuthSettings? = nil, now: Date
    ) async throws -> CredentialMetadata {
        try await rotate(
            id: id, workspace: workspace, host: credential.host, port: credential.port, username: credential.username,
            payload: try credential.storedPayload(oauth: oauth), now: now)
    }

    /// The stored credential `id` of `workspace`, in the request's terms.
    func credential(id: String, workspace: String) async throws -> CredentialParams {
        try await storedCredential(id: id, workspace: workspace).params
    }

    /// The stored credential `id` of `workspace`, with its OAuth settings if it has them.
    func storedCredential(id: String, workspace: String) async throws -> (params: CredentialParams, oauth: OAuthSettings?) {
        let stored = try await get(id: id, workspace: workspace)
        return try CredentialParams.stored(stored.payload, id: stored.metadata.id)
    }

    /// Replaces the refresh token of the stored OAuth credential `id` of `workspace` (the
    /// token endpoint rotated it), if it still holds `previous`: a credential rotated by an
    /// administrator meanwhile is left as they stored it.
    func replaceRefreshToken(id: String, workspace: String, previous: Secret, with token: Secret, now: Date) async throws {
        let stored = try await storedCredential(id: id, workspace: workspace)
        guard var oauth = stored.oauth, oauth.refreshToken == previous else { return }
        oauth.refreshToken = token
        var params = stored.params
        params.id = nil
        try await rotate(id: id, workspace: workspace, credential: params, oauth: oauth, now: now)
    }
}
