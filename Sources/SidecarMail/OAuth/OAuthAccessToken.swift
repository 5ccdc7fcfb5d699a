import SidecarCore

/// An OAuth 2.0 access token from a token endpoint, with the instants that decide its use.
///
/// - Until ``refreshAt`` it is simply used.
/// - From ``refreshAt`` until ``usableUntil`` it is still used, while a refresh runs ahead
///   (the next token is ready before this one is unusable, and no send waits).
/// - From ``usableUntil`` on, a send waits for the next token: this one could expire
///   between the AUTH command leaving and the server checking it.
public struct OAuthAccessToken<Instant: InstantProtocol>: Sendable, Hashable where Instant.Duration == Duration {
    public let value: Secret
    /// When the endpoint said it expires (`expires_in` after it was requested).
    public let expiresAt: Instant
    public let refreshAt: Instant
    public let usableUntil: Instant

    /// A token granted at `grantedAt` (when it was requested: the endpoint's clock started
    /// no earlier) for `lifetime`. The refresh margin is a quarter of the lifetime, at most
    /// a minute; the safety margin a tenth, at most 10 s. A one-hour token is refreshed
    /// from minute 59 and used until 59:50; a 5-second token from 3.75 s, until 4.5 s.
    public init(value: Secret, grantedAt: Instant, lifetime: Duration) {
        self.value = value
        let lifetime = max(lifetime, .zero)
        expiresAt = grantedAt.advanced(by: lifetime)
        refreshAt = expiresAt.advanced(by: .zero - min(.seconds(60), lifetime / 4))
        usableUntil = expiresAt.advanced(by: .zero - min(.seconds(10), lifetime / 10))
    }
}
