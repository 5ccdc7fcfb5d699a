import FoundationEssentials

/// What the last access-token refreshes of a stored OAuth credential gave, as the daemon
/// recorded them: never a token.
public struct CredentialTokenStatus: Sendable, Hashable, Codable {
    /// When the current access token expires.
    public var expires: Date?
    /// When a token was last obtained.
    public var refreshed: Date?
    /// When a refresh last failed, and why (cleared by the next success).
    public var failed: Date?
    public var lastError: String?

    public init(expires: Date? = nil, refreshed: Date? = nil, failed: Date? = nil, lastError: String? = nil) {
        self.expires = expires
        self.refreshed = refreshed
        self.failed = failed
        self.lastError = lastError
    }
}
