/// The value of one `key = value` setting (from the configuration file, an `SMTP_SIDECAR_*`
/// variable or `--set`), read the same way by every module that owns configuration keys,
/// with the same wording when it is wrong.
public enum ConfigurationValue {
    /// A positive integer, or an error naming the key and where it was set.
    public static func positive(_ value: String, _ key: String, _ source: String) throws(SidecarError) -> Int {
        guard let number = Int(value), number > 0 else {
            throw invalid("\(source): \(key) must be a positive integer, not \"\(value)\"")
        }
        return number
    }

    /// A comma-separated list, each entry trimmed, the empty ones dropped.
    public static func list(_ value: String) -> [String] {
        value.split(separator: ",").map { String($0).trimmingUnicodeWhitespace() }.filter { !$0.isEmpty }
    }

    /// An `invalid_configuration` error: "Invalid configuration: `message`."
    public static func invalid(_ message: String) -> SidecarError {
        SidecarError(code: .invalidConfiguration, message: "Invalid configuration: \(message).")
    }
}
