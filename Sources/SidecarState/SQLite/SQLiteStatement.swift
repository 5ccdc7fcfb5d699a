import CSQLite

/// A prepared statement, cached by its connection and reused. Finalised on deinit.
final class SQLiteStatement {
    private let raw: OpaquePointer
    private let connection: OpaquePointer

    init(_ raw: OpaquePointer, connection: OpaquePointer) {
        self.raw = raw
        self.connection = connection
    }

    deinit {
        sqlite3_finalize(raw)
    }

    func bind(_ values: [SQLiteValue]) throws(SQLiteError) {
        let expected = Int(sqlite3_bind_parameter_count(raw))
        guard values.count == expected else {
            throw SQLiteError(code: nil, context: "a statement takes \(expected) parameters, \(values.count) given")
        }
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let status: Int32
            switch value {
            case .null:
                status = sqlite3_bind_null(raw, index)
            case .integer(let integer):
                status = sqlite3_bind_int64(raw, index, integer)
            case .real(let real):
                status = sqlite3_bind_double(raw, index, real)
            case .text(let text):
                status = sqlite3_bind_text(raw, index, text, -1, csqlite_transient())
            case .blob(let bytes):
                status = bytes.withUnsafeBytes { buffer in
                    // A nil pointer would bind NULL; an empty blob needs a valid one.
                    sqlite3_bind_blob64(raw, index, buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1), sqlite3_uint64(buffer.count), csqlite_transient())
                }
            }
            guard status == SQLITE_OK else { throw failure(status, "bind parameter \(index)") }
        }
    }

    /// Advances; true when a row is available.
    func step() throws(SQLiteError) -> Bool {
        let status = sqlite3_step(raw)
        switch status {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw failure(status, "run a statement")
        }
    }

    func row() -> SQLiteRow {
        let count = sqlite3_column_count(raw)
        var values: [SQLiteValue] = []
        values.reserveCapacity(Int(count))
        for column in 0..<count {
            switch sqlite3_column_type(raw, column) {
            case SQLITE_INTEGER:
                values.append(.integer(sqlite3_column_int64(raw, column)))
            case SQLITE_FLOAT:
                values.append(.real(sqlite3_column_double(raw, column)))
            case SQLITE_TEXT:
                let text = sqlite3_column_text(raw, column).map { String(cString: $0) } ?? ""
                values.append(.text(text))
            case SQLITE_BLOB:
                let count = Int(sqlite3_column_bytes(raw, column))
                if let pointer = sqlite3_column_blob(raw, column), count > 0 {
                    values.append(.blob(Array(UnsafeRawBufferPointer(start: pointer, count: count))))
                } else {
                    values.append(.blob([]))
                }
            default:
                values.append(.null)
            }
        }
        return SQLiteRow(values)
    }

    /// Resets for the next use and drops the bindings (so a bound secret does not linger).
    func reset() {
        sqlite3_reset(raw)
        sqlite3_clear_bindings(raw)
    }

    private func failure(_ status: Int32, _ action: String) -> SQLiteError {
        SQLiteError(code: status, context: "\(action): \(SQLiteConnection.message(connection, status))")
    }
}
