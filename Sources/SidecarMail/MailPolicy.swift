import SidecarEgress
import SidecarState

/// The send policy's services. Each but the SSRF guard is optional so that a piece can be
/// left out (unit tests, a daemon without a state directory); the daemon configures them all.
public struct MailPolicy: Sendable {
    /// The SSRF guard for SMTP hosts: resolve once, refuse non-public addresses, pin. Not
    /// optional: every connection goes through it. The default refuses every non-public
    /// address; an allow-list is the operator's (`egress_allowed_cidrs`).
    public var destinations: DestinationResolver
    /// Fetches URL attachments through the same guard.
    public var fetcher: AttachmentFetcher?
    /// One-hour duplicate suppression.
    public var dedup: (any DedupStoring)?
    public var defaultDedupWindow: Duration
    /// Per-credential sending rate and daily quota.
    public var rateLimiter: (any RateLimiting)?
    /// Stored credentials, encrypted at rest.
    public var credentials: (any CredentialStoring)?
    /// Access tokens of stored OAuth credentials, from their token endpoints through the
    /// same guard. Without it, a stored OAuth credential is refused.
    public var oauth: OAuthTokenBroker?

    public init(
        destinations: DestinationResolver = DestinationResolver(), fetcher: AttachmentFetcher? = nil, dedup: (any DedupStoring)? = nil,
        defaultDedupWindow: Duration = .seconds(3600), rateLimiter: (any RateLimiting)? = nil, credentials: (any CredentialStoring)? = nil,
        oauth: OAuthTokenBroker? = nil
    ) {
        self.oauth = oauth
        self.destinations = destinations
        self.fetcher = fetcher
        self.dedup = dedup
        self.defaultDedupWindow = defaultDedupWindow
        self.rateLimiter = rateLimiter
        self.credentials = credentials
    }
}
