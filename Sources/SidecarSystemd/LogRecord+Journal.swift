import Logging

extension LogRecord {
    /// The syslog priority journald stores in `PRIORITY=`.
    ///
    /// | swift-log | syslog         |
    /// |-----------|----------------|
    /// | trace     | 7 (debug)      |
    /// | debug     | 7 (debug)      |
    /// | info      | 6 (info)       |
    /// | notice    | 5 (notice)     |
    /// | warning   | 4 (warning)    |
    /// | error     | 3 (err)        |
    /// | critical  | 2 (crit)       |
    public static func journalPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// The entry's journald fields, in the order sent: `MESSAGE`, `PRIORITY`,
    /// `SYSLOG_IDENTIFIER`, `LOGGER_LABEL`, `CODE_FILE`, `CODE_LINE`, `CODE_FUNC`, then one
    /// field a metadata leaf, named by ``JournalFieldName/mapping(_:)`` of its key path
    /// joined with `_`. Values are sent as they are, newlines included (the native
    /// protocol is binary-safe).
    public var journalFields: [(name: String, value: String)] {
        var result: [(name: String, value: String)] = [
            ("MESSAGE", message),
            ("PRIORITY", String(Self.journalPriority(level))),
            ("SYSLOG_IDENTIFIER", identifier),
            ("LOGGER_LABEL", label),
            ("CODE_FILE", file),
            ("CODE_LINE", String(line)),
            ("CODE_FUNC", function),
        ]
        result.reserveCapacity(result.count + fields.count)
        for field in fields {
            let key = field.path.count == 1 ? field.path[0] : field.path.joined(separator: "_")
            result.append((JournalFieldName.mapping(key), field.value))
        }
        return result
    }
}
