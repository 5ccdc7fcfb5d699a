/// A failure inside the SQLite wrapper.
///
/// It never carries a bound value: statements take their values only as parameters,
/// never interpolated into SQL, and SQLite's own messages name tables, columns and
/// constraints but not the values involved. So the text is safe to log and to show: the
/// mail engine words it as an `internal_error`, retryable when ``isBusy``.
public struct SQLiteError: Error, Sendable, Hashable, CustomStringConvertible {
    /// SQLite's primary or extended result code, or nil for an error of the wrapper itself.
    public var code: Int32?
    /// What was being done, and SQLite's explanation.
    public var context: String

    public init(code: Int32?, context: String) {
        self.code = code
        self.context = context
    }

    public var description: String {
        if let code { return "SQLite error \(code): \(context)" }
        return "SQLite: \(context)"
    }

    /// `SQLITE_BUSY` (5) or `SQLITE_LOCKED` (6), extended codes included.
    public var isBusy: Bool {
        guard let code else { return false }
        return code & 0xff == 5 || code & 0xff == 6
    }

}
