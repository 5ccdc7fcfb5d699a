import SidecarEgress
import SidecarPool

/// What the mail engine is configured with, and its defaults: the SMTP client's name, the
/// connection pools, the egress guard's exceptions, URL attachments, and the state kept
/// for duplicate suppression, rate limits and stored credentials. The executable reads it
/// from its configuration file (keys in `packaging/smtp-sidecar.conf`); the pool's and the
/// fetcher's own configurations carry their defaults.
public struct MailConfiguration: Sendable, Equatable {
    /// EHLO name sent to SMTP servers when a credential names none (`smtp_client_name`).
    /// nil: this machine's host name when it is fully qualified, else `[127.0.0.1]`.
    public var smtpClientName: String?
    /// Keep warm SMTP connections per workspace × credential × secret × server (`pool_enabled`).
    /// Off: a new connection for every send.
    public var poolEnabled: Bool = true
    /// The pools' limits and lifetimes (`pool_*`).
    public var pool = PoolConfiguration()
    /// Most pooled connections one workspace's pools may hold together
    /// (`pool_max_connections_per_workspace`); nil: half of the pools' total.
    public var poolMaxConnectionsPerWorkspace: Int?
    /// Most pooled connections to one server (host and port), over all workspaces
    /// (`pool_max_connections_per_server`); nil: half of the pools' total.
    public var poolMaxConnectionsPerServer: Int?
    /// Non-public networks the sidecar may nevertheless connect to, as CIDRs
    /// (`egress_allowed_cidrs`), e.g. a corporate relay's `10.20.0.0/16`. Default none: SMTP
    /// hosts and attachment URLs that are or resolve to loopback, private, link-local, CGNAT
    /// or metadata addresses are refused.
    public var egressAllowedCIDRs: [String] = []
    /// URL attachment fetches (`attachment_max_bytes`, `attachment_timeout_seconds`).
    public var attachments = AttachmentFetchConfiguration()
    /// Requests to OAuth token endpoints for stored OAuth credentials. `oauth_token_ca_file`
    /// adds a trusted CA (PEM file) for a private identity provider.
    public var oauthTokens = OAuthTokenClientConfiguration()
    /// Default duplicate-suppression window (`dedup_window_seconds`); 0 turns it off.
    public var dedupWindowSeconds: Int = 3600
    /// How often expired dedup records and rate counters are deleted from the state
    /// database (`state_purge_interval_seconds`), also once at start-up. 1 to 86400.
    public var statePurgeIntervalSeconds: Int = 300
    /// Key file for stored credentials (`credential_key_file`). Default: the systemd
    /// credential `smtp-sidecar.key` when present; without a key there is no credential store.
    public var credentialKeyFile: String?
    /// Where durable state lives (duplicate records, rate counters, stored credentials).
    public var stateDirectory: String = "/var/lib/smtp-sidecar"

    public init() {}
}
