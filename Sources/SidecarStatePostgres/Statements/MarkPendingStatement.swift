import PostgresNIO

/// Marks a key "may have been sent" for a send, renewing its lease, and claims it on the
/// way when it was free: one row when the key is now this send's and `pending`. A key held
/// by another send (or a finished one) is left alone and answers no row.
///
/// ## Why the mark claims (decision)
/// A send that began optimistically (``PostgresDedupStore/beginOptimistically(key:window:deadline:)``)
/// wrote nothing yet: its claim and its mark are this one statement, the only one that
/// waits for the server's WAL flush. A send that claimed at `begin` (its row `reserved`
/// with its token) is marked by the same statement.
struct MarkPendingStatement: DedupStatement {
    static let name = "smtp_sidecar_dedup_mark_pending_v2"

    static func sql(table: String) -> String {
        """
        INSERT INTO \(table) AS held (key, state, result_json, created_ms, expires_ms, owner, token, lease_until_ms)
        VALUES ($1, 'pending', NULL, $2, $3, $4, $5, $6)
        ON CONFLICT (key) DO UPDATE SET state = 'pending', lease_until_ms = EXCLUDED.lease_until_ms
        WHERE held.token = EXCLUDED.token AND held.state IN ('reserved', 'pending') RETURNING 1
        """
    }

    var key: String
    var createdMs: Int64
    var expiresMs: Int64
    var owner: String
    var token: String
    var leaseUntilMs: Int64

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 6)
        bindings.append(key)
        bindings.append(createdMs)
        bindings.append(expiresMs)
        bindings.append(owner)
        bindings.append(token)
        bindings.append(leaseUntilMs)
        return bindings
    }
}
