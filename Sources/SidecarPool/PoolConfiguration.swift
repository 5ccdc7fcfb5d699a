/// Limits and lifetimes of a ``ConnectionPool``. Every field has a documented default; the
/// daemon reads its own configuration and fills this in.
public struct PoolConfiguration: Sendable, Hashable {
    /// Most connections one pool (one key) may have open at once, including ones being
    /// created or closed. Default 4 (the daemon's `pool_max_connections_per_key`): SMTP
    /// providers count concurrent sessions per account, so a pool stays small.
    public var maxConnectionsPerPool: Int = 4
    /// Most connections open across all pools. Default 64.
    public var maxConnectionsTotal: Int = 64
    /// Longest a request waits in a pool's queue before failing with `pool_busy`, also
    /// bounded by the request's own deadline. Default 10 s.
    public var maxWait: Duration = .seconds(10)
    /// An idle connection is closed after this long without a lease. Default 30 s.
    public var idleTimeout: Duration = .seconds(30)
    /// A connection is not reused once this old; it is closed when next idle. Default 300 s.
    public var maxConnectionAge: Duration = .seconds(300)
    /// A connection is closed after serving this many leases (messages). Default 100.
    public var maxUsesPerConnection: Int = 100
    /// A lease of a connection that sat idle at least this long has `needsHealthCheck`
    /// set, so the caller can check it (SMTP: RSET) before use. Default 5 s.
    public var checkAfterIdle: Duration = .seconds(5)
    /// Idle connections each pool keeps ready once it has been used (prewarming). These
    /// are exempt from the idle timeout but not from the age limit. Default 0 (off).
    public var minimumIdleConnections: Int = 0
    /// After a failed creation with nobody waiting, prewarming pauses this long. Default 5 s.
    public var prewarmRetryDelay: Duration = .seconds(5)

    public init() {}
}
