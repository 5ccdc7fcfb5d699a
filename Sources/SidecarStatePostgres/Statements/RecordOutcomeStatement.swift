import PostgresNIO

/// Records the result of a send that went out (or may have): one row when the claim was
/// still this send's.
struct RecordOutcomeStatement: DedupStatement {
    static let name = "smtp_sidecar_dedup_record_outcome_v1"

    static func sql(table: String) -> String {
        """
        UPDATE \(table) SET state = 'done', result_json = $1
        WHERE key = $2 AND token = $3 AND state IN ('reserved', 'pending') RETURNING 1
        """
    }

    var resultJSON: String
    var key: String
    var token: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(resultJSON)
        bindings.append(key)
        bindings.append(token)
        return bindings
    }
}
