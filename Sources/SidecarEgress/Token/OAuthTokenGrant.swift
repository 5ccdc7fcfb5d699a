import SidecarCore

/// What a token endpoint granted.
public struct OAuthTokenGrant: Sendable, Hashable, CustomStringConvertible {
    public var accessToken: Secret
    /// `expires_in`; 3600 s when the endpoint left it out (RFC 6749 makes it only
    /// RECOMMENDED; Google and Microsoft both send it and both grant an hour).
    public var lifetime: Duration
    /// A new refresh token when the endpoint rotates them: it replaces the stored one.
    public var refreshToken: Secret?
    public var scope: String?

    public init(accessToken: Secret, lifetime: Duration, refreshToken: Secret? = nil, scope: String? = nil) {
        self.accessToken = accessToken
        self.lifetime = lifetime
        self.refreshToken = refreshToken
        self.scope = scope
    }

    public var description: String {
        "OAuthTokenGrant(\(Secret.redacted), \(lifetime)\(refreshToken == nil ? "" : ", rotated refresh token"))"
    }
}
