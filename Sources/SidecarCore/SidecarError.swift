/// The one error shape of the sidecar, on the wire and in code.
///
/// `message` is written for the end user of a workflow: it says what went wrong and what
/// to do, and it never contains a secret (a password, token or AUTH exchange). The `code`
/// is stable and documented in `proto-spec/errors.md`.
public struct SidecarError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// Stable machine-readable code.
    public var code: ErrorCode
    /// Human-readable explanation, safe to show to an end user.
    public var message: String
    /// Whether sending the same request again later may succeed.
    public var retryable: Bool
    /// The request field the error is about, as a JSON path (`params.to[2]`), when there is one.
    public var field: String?
    /// The SMTP server's reply, when the error came from one.
    public var smtp: SMTPReply?
    /// How long to wait before retrying, when the server knows (rate limits).
    public var retryAfterMs: Int?

    public init(
        code: ErrorCode,
        message: String,
        retryable: Bool = false,
        field: String? = nil,
        smtp: SMTPReply? = nil,
        retryAfterMs: Int? = nil
    ) {
        self.code = code
        self.message = message
        self.retryable = retryable
        self.field = field
        self.smtp = smtp
        self.retryAfterMs = retryAfterMs
    }

    public var description: String {
        var text = "\(code.rawValue): \(message)"
        if let field { text += " [field \(field)]" }
        if let smtp { text += " [smtp \(smtp)]" }
        return text
    }

    enum CodingKeys: String, CodingKey {
        case code, message, retryable, field, smtp
        case retryAfterMs = "retry_after_ms"
    }
}
