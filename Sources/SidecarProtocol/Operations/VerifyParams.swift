/// `verify` parameters: connect, secure, authenticate and QUIT, without sending mail, to
/// test a credential before a workflow relies on it.
public struct VerifyParams: Sendable, Equatable, Codable {
    public var workspaceID: String
    public var credential: CredentialParams?
    public var credentialID: String?
    public var timeoutMs: Int?

    public init(workspaceID: String, credential: CredentialParams? = nil, credentialID: String? = nil, timeoutMs: Int? = nil) {
        self.workspaceID = workspaceID
        self.credential = credential
        self.credentialID = credentialID
        self.timeoutMs = timeoutMs
    }

    enum CodingKeys: String, CodingKey {
        case credential
        case workspaceID = "workspace_id"
        case credentialID = "credential_id"
        case timeoutMs = "timeout_ms"
    }
}
