import FoundationEssentials

/// What may be shown about a stored credential: everything but the secret.
package struct CredentialMetadata: Sendable, Hashable, Codable {
    package var id: String
    package var workspace: String
    package var label: String
    package var host: String
    package var port: Int?
    package var username: String?
    package var created: Date
    /// When the secret was last replaced, if ever.
    package var rotated: Date?

    package init(
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
