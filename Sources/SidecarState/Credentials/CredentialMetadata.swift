import FoundationEssentials

/// What may be shown about a stored credential: everything but the secret.
public struct CredentialMetadata: Sendable, Hashable, Codable {
    public var id: String
    public var workspace: String
    public var label: String
    public var host: String
    public var port: Int?
    public var username: String?
    public var created: Date
    /// When the secret was last replaced, if ever.
    public var rotated: Date?
    /// For an OAuth credential the daemon has refreshed: how that went.
    public var token: CredentialTokenStatus?

    public init(
        id: String, workspace: String, label: String, host: String, port: Int?, username: String?, created: Date, rotated: Date?
    ) {
        self.id = id
        self.workspace = workspace
        self.label = label
        self.host = host
        self.port = port
        self.username = username
        self.created = created
        self.rotated = rotated
    }
}
