/// The shared state database's schema, as numbered migrations of SQL statements, every table
/// named with the configured prefix. `<prefix>schema_version` holds the number of the last
/// one applied. A migration, once shipped, is never edited: a change is a new migration.
/// The tables hold the same rows as the SQLite schema (`StateSchema`), so both backends
/// share their decision logic; a dedup record also has a lease (see `PostgresDedupStore`).
enum PostgresSchema {
    static func migrations(prefix p: String) -> [[String]] {
        [
            // 1: dedup records with leases, rate counters, spent quotas.
            [
                """
                CREATE TABLE \(p)dedup (
                    key text PRIMARY KEY,
                    state text NOT NULL CHECK (state IN ('reserved', 'pending', 'done')),
                    result_json text,
                    created_ms bigint NOT NULL,
                    expires_ms bigint NOT NULL,
                    owner text NOT NULL,
                    token text NOT NULL,
                    lease_until_ms bigint NOT NULL
                )
                """,
                "CREATE INDEX \(p)dedup_expires ON \(p)dedup (expires_ms)",
                "CREATE INDEX \(p)dedup_owner ON \(p)dedup (owner) WHERE state <> 'done'",
                """
                CREATE TABLE \(p)rate_bucket (
                    key text PRIMARY KEY,
                    tokens double precision NOT NULL,
                    updated_ms bigint NOT NULL
                )
                """,
                """
                CREATE TABLE \(p)rate_minute (
                    key text NOT NULL,
                    minute bigint NOT NULL,
                    sends integer NOT NULL CHECK (sends >= 0),
                    PRIMARY KEY (key, minute)
                )
                """,
                """
                CREATE TABLE \(p)rate_exhausted (
                    key text PRIMARY KEY,
                    until_ms bigint NOT NULL,
                    reason text NOT NULL
                )
                """,
            ],
            // 2: stored credentials, sealed (AES-256-GCM under the hosts' shared key; the
            // database never holds a secret in clear), and what their last token refresh gave.
            [
                """
                CREATE TABLE \(p)credential (
                    workspace text NOT NULL,
                    id text NOT NULL,
                    label text NOT NULL,
                    host text NOT NULL,
                    port integer,
                    username text,
                    sealed bytea NOT NULL,
                    key_id text NOT NULL,
                    created_ms bigint NOT NULL,
                    rotated_ms bigint,
                    PRIMARY KEY (workspace, id)
                )
                """,
                """
                CREATE TABLE \(p)credential_token (
                    workspace text NOT NULL,
                    id text NOT NULL,
                    expires_ms bigint,
                    refreshed_ms bigint,
                    failed_ms bigint,
                    last_error text,
                    PRIMARY KEY (workspace, id)
                )
                """,
            ],
        ]
    }

    static var currentVersion: Int { migrations(prefix: "").count }
}
