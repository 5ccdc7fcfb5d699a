import FoundationEssentials
import SidecarProtocol
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
    /// An OAuth credential's current access token expiry, as the daemon last recorded it.
    public var tokenExpires: Date?
    /// Why its last token refresh failed, if it did (cleared by a success).
    public var lastRefreshError: String?
    /// Its rate limits, sealed with it (not secret): nil when it has none, or when its
    /// record did not open (``opened``).
    public var limits: CredentialParams.Limits?
    /// Whether its sealed record opened under the key (``limits`` are read from it).
    public var opened: Bool

    init(_ metadata: CredentialMetadata, limits: CredentialParams.Limits?, opened: Bool = true) {
        id = metadata.id
        workspace = metadata.workspace
        label = metadata.label
        host = metadata.host
        port = metadata.port
        username = metadata.username
        tokenExpires = metadata.token?.expires
        lastRefreshError = metadata.token?.lastError
        self.limits = limits
        self.opened = opened
    }
}
