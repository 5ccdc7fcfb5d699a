/// The bounds of every number and of the bounded strings of a request, as
/// `proto-spec/schema/` states them. The request decoder refuses a value outside them with
/// `invalid_params`, so no later arithmetic (deadlines, windows, rates) sees an unbounded
/// number. Lengths count Unicode code points (what JSON Schema's `maxLength` counts).
public enum RequestBounds {
    /// A string `id`: 1 to 128 code points.
    public static let idLength = 1...128
    /// `workspace_id`, `credential_id` and `credential.id`.
    public static let identifierLength = 1...256
    /// `credential.host`: a DNS name (253) or an address literal.
    public static let hostLength = 1...255
    /// `credential.port`.
    public static let port = 1...65_535
    /// `credential.client_name` (the EHLO name).
    public static let clientNameLength = 1...255
    /// `credential.max_messages_per_connection`.
    public static let messagesPerConnection = 1...10_000
    /// `credential.limits.per_minute`.
    public static let perMinute = 1...100_000
    /// `credential.limits.daily`.
    public static let daily = 1...10_000_000
    /// `send.dedup_window_seconds`: off (0) to 30 days.
    public static let dedupWindowSeconds = 0...2_592_000
    /// `send.timeout_ms` and `verify.timeout_ms`: 1 ms to 1 hour.
    public static let timeoutMs = 1...3_600_000
    /// `ping.delay_ms`.
    public static let delayMs = 0...PingParams.maxDelayMs
    /// Each entry of `hello.versions`.
    public static let version = 1...65_535
    /// How many entries `hello.versions` may hold.
    public static let maxVersions = 16
    /// `hello.client`.
    public static let clientLength = 0...256
    /// `dsn.envelope_id` (RFC 3461 §4.4: at most 100 characters).
    public static let envelopeIDLength = 1...100
}
