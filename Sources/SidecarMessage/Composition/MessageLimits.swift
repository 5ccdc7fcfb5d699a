/// Every limit the composer enforces. Each violation is refused with its own error code
/// before anything is sent.
public struct MessageLimits: Sendable, Hashable {
    /// Largest `text` body, in bytes of UTF-8 (`body_too_large`). Default 10 MB.
    public var maxTextBodyBytes: Int
    /// Largest `html` body, in bytes of UTF-8 (`body_too_large`). Default 10 MB.
    public var maxHTMLBodyBytes: Int
    /// Longest subject, in Unicode scalars (`subject_too_long`). Default 998, the RFC 5322 line limit.
    public var maxSubjectLength: Int
    /// Most custom headers (`too_many_headers`). Default 50.
    public var maxCustomHeaders: Int
    /// Longest custom header value, in bytes of UTF-8 (`header_value_too_long`). Default 998.
    public var maxHeaderValueBytes: Int
    /// Most distinct recipients over To, Cc and Bcc (`too_many_recipients`). Default 100, the
    /// number every SMTP server must accept (RFC 5321 §4.5.3.1.8).
    public var maxRecipients: Int
    /// Most attachments, inline images included (`too_many_attachments`). Default 20.
    public var maxAttachments: Int
    /// Largest attachment, in decoded bytes (`attachment_too_large`). Default 25 MB.
    public var maxAttachmentBytes: Int
    /// Longest attachment filename, in bytes of UTF-8 (`attachment_invalid`). Default 255.
    public var maxFilenameBytes: Int
    /// Largest composed message, in bytes as sent (`message_too_large`). Default 50 MB.
    /// Checked before sending when every attachment's size is known, while streaming otherwise.
    public var maxMessageBytes: Int

    public init(
        maxTextBodyBytes: Int = 10_000_000,
        maxHTMLBodyBytes: Int = 10_000_000,
        maxSubjectLength: Int = 998,
        maxCustomHeaders: Int = 50,
        maxHeaderValueBytes: Int = 998,
        maxRecipients: Int = 100,
        maxAttachments: Int = 20,
        maxAttachmentBytes: Int = 25_000_000,
        maxFilenameBytes: Int = 255,
        maxMessageBytes: Int = 50_000_000
    ) {
        self.maxTextBodyBytes = maxTextBodyBytes
        self.maxHTMLBodyBytes = maxHTMLBodyBytes
        self.maxSubjectLength = maxSubjectLength
        self.maxCustomHeaders = maxCustomHeaders
        self.maxHeaderValueBytes = maxHeaderValueBytes
        self.maxRecipients = maxRecipients
        self.maxAttachments = maxAttachments
        self.maxAttachmentBytes = maxAttachmentBytes
        self.maxFilenameBytes = maxFilenameBytes
        self.maxMessageBytes = maxMessageBytes
    }
}
