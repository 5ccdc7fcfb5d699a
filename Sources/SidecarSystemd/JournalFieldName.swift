/// Maps swift-log metadata keys to journald field names.
///
/// journald accepts a field name only if it is 1 to 64 characters of `A-Z`, `0-9` and
/// `_`, does not start with a digit, and (for fields a client sends) does not start with
/// `_`, which marks the trusted fields journald adds itself. Anything else is dropped
/// silently, so every key is mapped before it is sent:
///
/// 1. ASCII letters are uppercased (`smtp_host` → `SMTP_HOST`, the one-to-one mapping the
///    style guide promises for snake_case keys); every other character that is not
///    `A-Z`, `0-9` or `_` becomes `_` (`smtp.host`, `smtp-host` → `SMTP_HOST`; one `_` per
///    Unicode scalar).
/// 2. Leading underscores are stripped (`_internal` → `INTERNAL`).
/// 3. A name that is now empty or starts with a digit gets the prefix `META_`
///    (`2fa` → `META_2FA`, `""` → `META_`).
/// 4. The name is cut to 64 characters.
/// 5. A name the handler sets itself, or that journald gives a meaning to (see
///    ``reserved``), gets the prefix `META_` too, so metadata can neither overwrite nor
///    duplicate the entry's own `MESSAGE`, `PRIORITY` or `CODE_*` (`message` → `META_MESSAGE`).
///
/// Two different keys can map to the same name (`smtp-host` and `smtp_host`); journald
/// then keeps both values under that name.
public enum JournalFieldName {
    /// journald's limit on a field name's length.
    public static let maxLength = 64

    /// The prefix for names that would otherwise be invalid or reserved.
    public static let prefix = "META_"

    /// Field names metadata may not use: those ``JournaldLogHandler`` sets, and the ones
    /// journald or journalctl interpret (syslog compatibility, catalog ids, unit and
    /// object attribution).
    public static let reserved: Set<String> = [
        "MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "LOGGER_LABEL", "CODE_FILE", "CODE_LINE", "CODE_FUNC",
        "MESSAGE_ID", "SYSLOG_FACILITY", "SYSLOG_PID", "SYSLOG_TIMESTAMP", "SYSLOG_RAW", "TID",
        "OBJECT_PID", "UNIT", "USER_UNIT", "INVOCATION_ID", "USER_INVOCATION_ID",
    ]

    /// The journald field name for a metadata key (or a flattened key path joined with `_`).
    ///
    /// Works on the key's UTF-8 bytes (every field of every entry goes through it): a byte
    /// that starts a scalar beyond ASCII becomes the scalar's one `_`, and its continuation
    /// bytes are skipped.
    public static func mapping(_ key: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(min(key.utf8.count, maxLength) + prefix.utf8.count)
        for byte in key.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"): bytes.append(byte - 0x20)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                bytes.append(byte)
            case 0x80..<0xC0: continue  // a continuation byte: its scalar already has its `_`
            default:
                // `_` itself, or a character that becomes one; leading ones are dropped.
                if !bytes.isEmpty { bytes.append(UInt8(ascii: "_")) }
            }
            if bytes.count > maxLength { break }
        }
        if bytes.isEmpty || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[0]) {
            bytes.insert(contentsOf: prefix.utf8, at: 0)
        }
        if bytes.count > maxLength { bytes.removeLast(bytes.count - maxLength) }
        var name = String(decoding: bytes, as: UTF8.self)
        if reserved.contains(name) {
            name = String((prefix + name).prefix(maxLength))
        }
        return name
    }

    /// Whether journald accepts `name` as a field a client sends.
    public static func isValid(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.unicodeScalars.count <= maxLength else { return false }
        guard first != "_", !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}
