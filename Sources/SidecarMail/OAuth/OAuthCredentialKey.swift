/// Which cached access token a stored OAuth credential uses: its workspace and id, and a
/// fingerprint of what makes its tokens (endpoint, client, grant kind), so that a credential
/// replaced with another client or endpoint does not inherit the old one's token. The
/// refresh token is not part of it: a rotated refresh token keeps the cache.
public struct OAuthCredentialKey: Sendable, Hashable, CustomStringConvertible {
    public var workspace: String
    public var credentialID: String
    public var fingerprint: String

    public init(workspace: String, credentialID: String, fingerprint: String) {
        self.workspace = workspace
        self.credentialID = credentialID
        self.fingerprint = fingerprint
    }

    public var description: String { "\(workspace)/\(credentialID)" }
}
