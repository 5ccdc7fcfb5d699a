/// `credential_status` parameters: which stored credentials to report, all of them by
/// default.
public struct CredentialStatusParams: Sendable, Equatable, Codable {
    /// Only the credential with this id (in every workspace, unless ``workspaceID`` is given
    /// too); none is `credential_not_found`.
    public var credentialID: String?
    /// Only this workspace's credentials.
    public var workspaceID: String?

    public init(credentialID: String? = nil, workspaceID: String? = nil) {
        self.credentialID = credentialID
        self.workspaceID = workspaceID
    }

    enum CodingKeys: String, CodingKey {
        case credentialID = "credential_id"
        case workspaceID = "workspace_id"
    }
}
