import SidecarState

/// What ``CredentialAdministration`` tells of a stored credential: never its secrets.
public struct CredentialSummary: Sendable, Hashable {
    public var id: String
    public var workspace: String
    /// A label for people.
    public var label: String
    public var host: String
    public var port: Int?
    public var username: String?

    init(_ metadata: CredentialMetadata) {
        id = metadata.id
        workspace = metadata.workspace
        label = metadata.label
        host = metadata.host
        port = metadata.port
        username = metadata.username
    }
}
