import SidecarEgress
import SidecarPool

/// What the mail engine is configured with, and its defaults: the SMTP client's name, the
/// connection pools, the egress guard's exceptions, URL attachments, and the state kept
/// for duplicate suppression, rate limits and stored credentials. The executable reads it
/// from its configuration file (keys in `packaging/smtp-sidecar.conf`); the pool's and the
/// fetcher's own configurations carry their defaults.
public struct MailConfiguration: Sendable, Equatable {
    /// Where duplicate-suppression records and rate counters are kept.
    public enum StateBackend: String, Sendable, Equatable {
        case sqlite
        case postgres
    }

    /// How to reach the shared PostgreSQL database of `state_backend = postgres`.
    public struct PostgresSettings: Sendable, Equatable {
        /// `postgres_url`: `postgres://user@host:port/database?sslmode=…`, without a password.
        public var url: String?
        /// `postgres_password_file`; default: the systemd credential
        /// `smtp-sidecar.postgres-password` when present.
        public var passwordFile: String?
        /// `postgres_pool_size`: connections to the database at most, of each of two kinds
        /// (durable commits and the rest; default 4).
        public var poolSize: Int = 4
        /// `postgres_statement_timeout_ms`: how long a statement, or the wait for a connection,
        /// may take before the send is refused with `state_unavailable` (default 5000).
        public var statementTimeoutMs: Int = 5000
        /// `postgres_table_prefix` (default `smtp_sidecar_`).
        public var tablePrefix: String = "smtp_sidecar_"
        /// `state_lease_seconds`: how long another host waits on this host's send in progress
        /// after this host stopped renewing it, before answering `outcome_unknown` (default 15).
        public var leaseSeconds: Int = 15

        public init() {}
    }

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
    /// Where duplicate-suppression records and rate counters live (`state_backend`): this
    /// host's SQLite database in ``stateDirectory`` (`sqlite`, the default), or a PostgreSQL
    /// database that a fleet of hosts shares (`postgres`; see ``postgres``).
    public var stateBackend: StateBackend = .sqlite
    /// The shared database, for `state_backend = postgres` (`postgres_*`).
    public var postgres = PostgresSettings()
    /// With the shared database unavailable, send anyway with duplicate suppression on this
    /// host only, logged at warning on every such send (`state_fail_open`). Default false:
    /// such a send is refused with `state_unavailable` and nothing is sent.
    public var stateFailOpen: Bool = false

    public init() {}
}
