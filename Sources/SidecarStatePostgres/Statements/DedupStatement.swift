import PostgresNIO

/// A statement of the dedup store on one of its rows, answering one row (`RETURNING 1`)
/// when it changed the row: prepared once per connection when the tables have the default
/// prefix, sent whole otherwise (decision).
///
/// ## Why prepared
/// A default send makes three of these. Sent whole, each is parsed and planned by the
/// server and described back on every send; prepared, a send binds and executes. The SQL is
/// the one text either way (``sql(table:)``); postgres-nio needs it static to prepare it,
/// so only the default table names (`postgres_table_prefix` unset) are prepared, and a
/// daemon configured with another prefix sends the same text with its own table's name.
protocol DedupStatement: PostgresPreparedStatement where Row == Int32 {
    /// The statement on `table`, with `$1`… for its bindings.
    static func sql(table: String) -> String
}

extension DedupStatement {
    static var sql: String { sql(table: PostgresTables(prefix: PostgresStateConfiguration.defaultTablePrefix).dedup) }

    func decodeRow(_ row: PostgresRow) throws -> Int32 { try row.decode(Int32.self) }

    /// Runs the statement on `client`, prepared when `tables` are the default ones; returns
    /// whether it changed the row.
    func run(on client: PostgresClient, tables: PostgresTables, logger: Logger) async throws -> Bool {
        var rows = 0
        if tables.isDefault {
            for try await _ in try await client.execute(self, logger: logger) { rows += 1 }
        } else {
            let query = PostgresQuery(unsafeSQL: Self.sql(table: tables.dedup), binds: try makeBindings())
            for try await _ in try await client.query(query, logger: logger) { rows += 1 }
        }
        return rows == 1
    }
}
