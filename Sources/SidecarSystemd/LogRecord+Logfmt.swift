import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension LogRecord {
    /// The keys every line starts with; metadata with one of these keys is written as
    /// `meta_<key>` so that it cannot shadow them.
    public static let logfmtReservedKeys: Set<String> = ["ts", "level", "logger", "msg"]

    /// The entry as one logfmt line (without the trailing newline), for stderr:
    ///
    ///     ts=2025-01-02T03:04:05.678901Z level=info logger=smtp-sidecar msg="sent message" smtp.host=mx.example.com
    ///
    /// `ts` is RFC 3339 in UTC with microseconds; metadata follows in key-path order, with
    /// nested keys joined by `.`. A value is quoted when it is empty or holds a space,
    /// `=`, `"`, `\` or any control or line-breaking character; inside quotes `\` and `"`
    /// are backslash-escaped; newline, carriage return and tab are written `\n`, `\r`,
    /// `\t`, and every other control or line-breaking character `\uXXXX` (hex code point).
    /// The line never contains a raw line break, so one entry is always one line.
    /// Characters in keys that logfmt cannot carry (space, `=`, `"`, controls, non-ASCII)
    /// become `_`.
    ///
    /// - Parameter timestamp: wall-clock time since the Unix epoch.
    public func logfmtLine(timestamp: Duration) -> String {
        var line = "ts=" + Self.rfc3339(timestamp)
        line += " level=" + level.rawValue
        line += " logger=" + Self.logfmtValue(label)
        line += " msg=" + Self.logfmtValue(message)
        for field in fields {
            var key = Self.logfmtKey(field.path.joined(separator: "."))
            if Self.logfmtReservedKeys.contains(key) { key = "meta_" + key }
            line += " " + key + "=" + Self.logfmtValue(field.value)
        }
        return line
    }

    /// `value`, quoted and escaped when logfmt needs it.
    public static func logfmtValue(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.unicodeScalars.contains { scalar in
            scalar == " " || scalar == "=" || scalar == "\"" || scalar == "\\" || isControlOrBreak(scalar)
        }
        guard needsQuotes else { return value }
        var quoted = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\r": quoted += "\\r"
            case "\t": quoted += "\\t"
            case _ where isControlOrBreak(scalar): quoted += "\\u" + hex(scalar.value, width: 4)
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }

    /// `key` with the characters logfmt keys cannot hold replaced by `_`; `_` when empty.
    public static func logfmtKey(_ key: String) -> String {
        guard !key.isEmpty else { return "_" }
        var result = ""
        for scalar in key.unicodeScalars {
            let allowed = scalar.isASCII && scalar.value > 0x20 && scalar.value != 0x7F && scalar != "=" && scalar != "\""
            result.unicodeScalars.append(allowed ? scalar : "_")
        }
        return result
    }

    /// C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
    private static func isControlOrBreak(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029: true
        default: false
        }
    }

    /// `2025-01-02T03:04:05.678901Z`.
    static func rfc3339(_ sinceEpoch: Duration) -> String {
        let (seconds, attoseconds) = sinceEpoch.components
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        let microseconds = Int(attoseconds / 1_000_000_000_000)
        return decimal(Int(parts.tm_year) + 1900, width: 4) + "-" + decimal(Int(parts.tm_mon) + 1, width: 2) + "-"
            + decimal(Int(parts.tm_mday), width: 2) + "T" + decimal(Int(parts.tm_hour), width: 2) + ":"
            + decimal(Int(parts.tm_min), width: 2) + ":" + decimal(Int(parts.tm_sec), width: 2) + "."
            + decimal(microseconds, width: 6) + "Z"
    }

    /// The current wall-clock time since the Unix epoch.
    public static func now() -> Duration {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return .seconds(now.tv_sec) + .nanoseconds(now.tv_nsec)
    }

    private static func decimal(_ value: Int, width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
