import SidecarCore

/// How to reach a fleet's shared state database. The password never comes from the URL:
/// the daemon reads it from a file or the systemd credential `smtp-sidecar.postgres-password`
/// and holds it in a redacting ``Secret``.
public struct PostgresStateConfiguration: Sendable {
    public enum TLSMode: String, Sendable, Hashable {
        /// No TLS (a Unix socket, or a loopback or private network the operator trusts).
        case disable
        /// TLS when the server offers it, verified against the system's CAs; plain otherwise.
        case prefer
        /// TLS, verified against the system's CAs, or no connection.
        case require
    }

    public var host: String
    public var port: Int
    public var username: String
    public var database: String
    public var password: Secret?
    public var tls: TLSMode
    /// Connections the daemon opens at most, of each of its two kinds (`postgres_pool_size`,
    /// default 4): see ``PostgresState``.
    public var poolSize: Int
    /// How long one statement (and a wait for a connection) may take before the send is
    /// refused with `state_unavailable` (`postgres_statement_timeout_ms`, default 5000).
    public var statementTimeout: Duration
    /// Prefixed to every table name (`postgres_table_prefix`, default `smtp_sidecar_`), so
    /// that several fleets, or other software, can share one database.
    public var tablePrefix: String
    /// How long another host waits before it treats this host's send in progress as
    /// interrupted when this host stops renewing it (`state_lease_seconds`, default 15).
    public var lease: Duration

    public static let defaultTablePrefix = "smtp_sidecar_"

    public init(
        host: String, port: Int = 5432, username: String, database: String, password: Secret?,
        tls: TLSMode = .prefer, poolSize: Int = 4, statementTimeout: Duration = .seconds(5),
        tablePrefix: String = PostgresStateConfiguration.defaultTablePrefix, lease: Duration = .seconds(15)
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.database = database
        self.password = password
        self.tls = tls
        self.poolSize = poolSize
        self.statementTimeout = statementTimeout
        self.tablePrefix = tablePrefix
        self.lease = lease
    }

    /// Whether `prefix` is safe to put before a table name: a lower-case SQL identifier
    /// start of at most 30 characters (PostgreSQL's names stop at 63 bytes).
    public static func isValidTablePrefix(_ prefix: String) -> Bool {
        guard (0...30).contains(prefix.utf8.count) else { return false }
        guard let first = prefix.utf8.first else { return true }
        guard (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) || first == UInt8(ascii: "_") else { return false }
        return prefix.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "_")
        }
    }
}
