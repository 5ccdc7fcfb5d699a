/// Everything the daemon can be configured with, and its defaults.
///
/// Read by ``ConfigurationLoader`` from a flat `key = value` file, then the environment
/// (`SMTP_SIDECAR_<KEY>`), then command-line overrides, each later source winning. Every key
/// is documented in `packaging/smtp-sidecar.conf`.
public struct SidecarConfiguration: Sendable, Equatable {
    /// Where to bind when not socket-activated (`socket_path`).
    public var socketPath: String = "/run/smtp-sidecar/smtp-sidecar.sock"
    /// File mode of a socket the daemon binds itself (`socket_mode`, octal).
    public var socketMode: UInt32 = 0o660
    /// Group (name or gid) of a socket the daemon binds itself; nil leaves it (`socket_group`).
    public var socketGroup: String?
    /// Peers allowed by uid or user name (`allowed_uids`). With both lists empty, any peer
    /// that can open the socket is allowed (the socket's mode and group decide).
    public var allowedUIDs: [String] = []
    /// Peers allowed by primary gid or group name (`allowed_gids`).
    public var allowedGIDs: [String] = []
    /// Client connections open at once; more are refused with `too_many_connections`.
    public var maxConnections: Int = 256
    /// Requests processed at once per connection; further frames wait unread.
    public var maxInFlightPerConnection: Int = 32
    /// Largest frame payload accepted (`max_frame_bytes`).
    public var maxFrameBytes: Int = 32 * 1024 * 1024
    /// A connection with nothing in flight and no frame for this long is closed.
    public var idleTimeoutSeconds: Int = 300
    /// On SIGTERM, how long in-flight requests may take before they are abandoned.
    public var shutdownTimeoutSeconds: Int = 25
    /// How often `STATUS=` is sent to systemd.
    public var statusIntervalSeconds: Int = 5
    /// Event-loop threads, which also run the daemon's Swift concurrency (`event_loop_threads`).
    /// 0: one per CPU core. Default 1: a send is I/O-bound, and on one thread its steps never
    /// wait on a wake-up of another thread (perf: about 10% less CPU a send than two loops).
    public var eventLoopThreads: Int = 1
    /// `trace`, `debug`, `info`, `notice`, `warning`, `error` or `critical`.
    public var logLevel: String = "info"
    /// `auto` (journald when present, else stderr), `journald` or `stderr`.
    public var logTarget: String = "auto"
    /// EHLO name sent to SMTP servers when a credential names none (`smtp_client_name`).
    /// nil: this machine's host name when it is fully qualified, else `[127.0.0.1]`.
    public var smtpClientName: String?
    /// Keep warm SMTP connections per workspace × credential × secret × server (`pool_enabled`).
    /// Off: a new connection for every send.
    public var poolEnabled: Bool = true
    /// Connections per pool (one workspace, credential and server) (`pool_max_connections_per_key`).
    public var poolMaxConnectionsPerKey: Int = 4
    /// Pooled connections over all pools (`pool_max_connections`).
    public var poolMaxConnections: Int = 64
    /// Most pooled connections one workspace's pools may hold together
    /// (`pool_max_connections_per_workspace`); nil: half of `poolMaxConnections`.
    public var poolMaxConnectionsPerWorkspace: Int?
    /// Most pooled connections to one server (host and port), over all workspaces
    /// (`pool_max_connections_per_server`); nil: half of `poolMaxConnections`.
    public var poolMaxConnectionsPerServer: Int?
    /// How long a send waits for a free pooled connection before `pool_busy`.
    public var poolMaxWaitSeconds: Int = 10
    /// An idle pooled connection is closed (with QUIT) after this long.
    public var poolIdleTimeoutSeconds: Int = 30
    /// A pooled connection is retired after this long, however busy.
    public var poolMaxConnectionAgeSeconds: Int = 300
    /// A pooled connection is retired after this many messages.
    public var poolMaxMessagesPerConnection: Int = 100
    /// A connection idle at least this long is checked with RSET before reuse.
    public var poolCheckAfterIdleSeconds: Int = 5
    /// Non-public networks the sidecar may nevertheless connect to, as CIDRs
    /// (`egress_allowed_cidrs`), e.g. a corporate relay's `10.20.0.0/16`. Default none: SMTP
    /// hosts and attachment URLs that are or resolve to loopback, private, link-local, CGNAT
    /// or metadata addresses are refused.
    public var egressAllowedCIDRs: [String] = []
    /// Default duplicate-suppression window (`dedup_window_seconds`); 0 turns it off.
    public var dedupWindowSeconds: Int = 3600
    /// How often expired dedup records and rate counters are deleted from the state
    /// database (`state_purge_interval_seconds`), also once at start-up. 1 to 86400.
    public var statePurgeIntervalSeconds: Int = 300
    /// Key file for stored credentials (`credential_key_file`). Default: the systemd
    /// credential `smtp-sidecar.key` when present; without a key there is no credential store.
    public var credentialKeyFile: String?
    /// Largest URL attachment fetched, in bytes (`attachment_max_bytes`).
    public var attachmentMaxBytes: Int = 25_000_000
    /// A URL attachment whose server sends nothing for this long fails (`attachment_timeout_seconds`).
    public var attachmentTimeoutSeconds: Int = 30
    /// Where durable state lives (duplicate records, rate counters, stored credentials).
    public var stateDirectory: String = "/var/lib/smtp-sidecar"

    public init() {}
}
