import PostgresNIO

/// Claims a free key for a send: one row when it was free.
struct ClaimStatement: DedupStatement {
    static let name = "smtp_sidecar_dedup_claim_v1"

    static func sql(table: String) -> String {
        """
        INSERT INTO \(table) (key, state, result_json, created_ms, expires_ms, owner, token, lease_until_ms)
        VALUES ($1, 'reserved', NULL, $2, $3, $4, $5, $6) ON CONFLICT (key) DO NOTHING RETURNING 1
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
