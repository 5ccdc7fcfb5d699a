import PostgresNIO

/// Marks a claimed key "may have been sent", renewing its lease: one row when the claim is
/// still this send's.
struct MarkPendingStatement: DedupStatement {
    static let name = "smtp_sidecar_dedup_mark_pending_v1"

    static func sql(table: String) -> String {
        """
        UPDATE \(table) SET state = 'pending', lease_until_ms = $1
        WHERE key = $2 AND token = $3 AND state IN ('reserved', 'pending') RETURNING 1
        """
    }

    var leaseUntilMs: Int64
    var key: String
    var token: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(leaseUntilMs)
        bindings.append(key)
        bindings.append(token)
        return bindings
    }
}
