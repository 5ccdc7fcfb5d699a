/// The state database's schema, as numbered migrations. `PRAGMA user_version` holds the
/// number of the last one applied; opening applies the rest in one transaction. A
/// migration, once shipped, is never edited: a change is a new migration.
enum StateSchema {
    static let migrations: [String] = [
        // 1: dedup records, rate counters, credentials.
        """
        CREATE TABLE dedup (
            key TEXT PRIMARY KEY NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'done')),
            result_json TEXT,
            created_ms INTEGER NOT NULL,
            expires_ms INTEGER NOT NULL,
            owner TEXT NOT NULL,
            token TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX dedup_expires ON dedup (expires_ms);

        CREATE TABLE rate_bucket (
            key TEXT PRIMARY KEY NOT NULL,
            tokens REAL NOT NULL,
            updated_ms INTEGER NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE rate_minute (
            key TEXT NOT NULL,
            minute INTEGER NOT NULL,
            sends INTEGER NOT NULL CHECK (sends >= 0),
            PRIMARY KEY (key, minute)
        ) WITHOUT ROWID;

        CREATE TABLE credential (
            workspace TEXT NOT NULL,
            id TEXT NOT NULL,
            label TEXT NOT NULL,
            host TEXT NOT NULL,
            port INTEGER,
            username TEXT,
            sealed BLOB NOT NULL,
            key_id TEXT NOT NULL,
            created_ms INTEGER NOT NULL,
            rotated_ms INTEGER,
            PRIMARY KEY (workspace, id)
        ) WITHOUT ROWID;
        """,
        // 2: a dedup record starts `reserved` (nothing sent yet) and becomes `pending` only
        // just before its SMTP transaction begins. SQLite cannot alter a CHECK constraint, so
        // the table is rebuilt; existing `pending` records stay `pending` ("may have been sent").
        """
        CREATE TABLE dedup_v2 (
            key TEXT PRIMARY KEY NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('reserved', 'pending', 'done')),
            result_json TEXT,
            created_ms INTEGER NOT NULL,
            expires_ms INTEGER NOT NULL,
            owner TEXT NOT NULL,
            token TEXT NOT NULL
        ) WITHOUT ROWID;
        INSERT INTO dedup_v2 (key, state, result_json, created_ms, expires_ms, owner, token)
            SELECT key, state, result_json, created_ms, expires_ms, owner, token FROM dedup;
        DROP TABLE dedup;
        ALTER TABLE dedup_v2 RENAME TO dedup;
        CREATE INDEX dedup_expires ON dedup (expires_ms);
        """,
        // 3: for a stored OAuth credential, what its last token refresh gave (never a token):
        // for `credentials list`, which runs in another process than the daemon refreshing.
        // And a credential whose provider said its daily quota is spent, until when.
        """
        CREATE TABLE credential_token (
            workspace TEXT NOT NULL,
            id TEXT NOT NULL,
            expires_ms INTEGER,
            refreshed_ms INTEGER,
            failed_ms INTEGER,
            last_error TEXT,
            PRIMARY KEY (workspace, id)
        ) WITHOUT ROWID;

        CREATE TABLE rate_exhausted (
            key TEXT PRIMARY KEY NOT NULL,
            until_ms INTEGER NOT NULL,
            reason TEXT NOT NULL
        ) WITHOUT ROWID;
        """,
    ]

    static var currentVersion: Int { migrations.count }

    static func migrate(_ connection: SQLiteConnection) throws {
        try connection.transaction { connection in
            let version = try connection.userVersion()
            guard version <= currentVersion else {
                throw SQLiteError(
                    code: nil,
                    context: "the database has schema version \(version), newer than this build's \(currentVersion)"
                )
            }
            for index in version..<currentVersion {
                try connection.execute(migrations[index])
            }
            if version < currentVersion {
                try connection.execute("PRAGMA user_version = \(currentVersion)")
            }
        }
    }
}
