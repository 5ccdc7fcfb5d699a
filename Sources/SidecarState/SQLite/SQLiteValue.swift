/// A value bound to a statement parameter or read from a result column.
public enum SQLiteValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

extension SQLiteValue {
    public static func int(_ value: Int) -> SQLiteValue { .integer(Int64(value)) }

    /// `nil` becomes NULL.
    public static func optionalText(_ value: String?) -> SQLiteValue { value.map(SQLiteValue.text) ?? .null }

    /// `nil` becomes NULL.
    public static func optionalInt(_ value: Int?) -> SQLiteValue { value.map { .integer(Int64($0)) } ?? .null }
}

/// One result row. Columns are read by position, in the order of the SELECT list.
public struct SQLiteRow: Sendable, Hashable {
    public var values: [SQLiteValue]

    public init(_ values: [SQLiteValue]) {
        self.values = values
    }

    public func int64(_ column: Int) throws(SQLiteError) -> Int64 {
        guard case .integer(let value) = try value(column) else { throw typeMismatch(column, "an integer") }
        return value
    }

    public func int(_ column: Int) throws(SQLiteError) -> Int { Int(try int64(column)) }

    public func optionalInt(_ column: Int) throws(SQLiteError) -> Int? {
        switch try value(column) {
        case .null: return nil
        case .integer(let value): return Int(value)
        case .real, .text, .blob: throw typeMismatch(column, "an integer or NULL")
        }
    }

    public func double(_ column: Int) throws(SQLiteError) -> Double {
        switch try value(column) {
        case .real(let value): return value
        case .integer(let value): return Double(value)
        case .null, .text, .blob: throw typeMismatch(column, "a number")
        }
    }

    public func text(_ column: Int) throws(SQLiteError) -> String {
        guard case .text(let value) = try value(column) else { throw typeMismatch(column, "text") }
        return value
    }

    public func optionalText(_ column: Int) throws(SQLiteError) -> String? {
        switch try value(column) {
        case .null: return nil
        case .text(let value): return value
        case .integer, .real, .blob: throw typeMismatch(column, "text or NULL")
        }
    }

    public func blob(_ column: Int) throws(SQLiteError) -> [UInt8] {
        switch try value(column) {
        case .blob(let value): return value
        // SQLite returns a zero-length blob as NULL.
        case .null: return []
        case .integer, .real, .text: throw typeMismatch(column, "a blob")
        }
    }

    private func value(_ column: Int) throws(SQLiteError) -> SQLiteValue {
        guard values.indices.contains(column) else {
            throw SQLiteError(code: nil, context: "read column \(column) of a row with \(values.count) columns")
        }
        return values[column]
    }

    private func typeMismatch(_ column: Int, _ expected: String) -> SQLiteError {
        SQLiteError(code: nil, context: "column \(column) is not \(expected)")
    }
}
