// Errors found while validating and composing the message (before anything is sent).
extension ErrorCode {
    /// A header value, subject, address, display name or filename contains CR or LF.
    public static let headerForbiddenCharacters = ErrorCode("header_forbidden_characters")
    /// A custom header uses a reserved name (From, To, Message-ID, ...).
    public static let headerReserved = ErrorCode("header_reserved")
    /// A custom header name is not a valid RFC 5322 field name.
    public static let headerNameInvalid = ErrorCode("header_name_invalid")
    /// More custom headers than allowed (default 50).
    public static let tooManyHeaders = ErrorCode("too_many_headers")
    /// The subject is longer than allowed (default 998 characters).
    public static let subjectTooLong = ErrorCode("subject_too_long")
    /// The text or HTML body is larger than allowed (default 10 MB of UTF-8).
    public static let bodyTooLarge = ErrorCode("body_too_large")
    /// An address (From, To, Cc, Bcc, Reply-To) cannot be parsed.
    public static let invalidAddress = ErrorCode("invalid_address")
    /// No recipient in To, Cc or Bcc.
    public static let noRecipients = ErrorCode("no_recipients")
    /// An attachment's base64 content is not valid base64.
    public static let attachmentInvalidBase64 = ErrorCode("attachment_invalid_base64")
    /// An attachment is missing its content or has an invalid name or type.
    public static let attachmentInvalid = ErrorCode("attachment_invalid")
    /// The composed message exceeds the configured maximum size.
    public static let messageTooLarge = ErrorCode("message_too_large")
    /// No sender: the request has no `from` and the credential has no default From address.
    public static let noSender = ErrorCode("no_sender")
    /// More recipients (To, Cc and Bcc together, after removing duplicates) than allowed (default 100).
    public static let tooManyRecipients = ErrorCode("too_many_recipients")
    /// A custom header value is longer than allowed (default 998 bytes of UTF-8).
    public static let headerValueTooLong = ErrorCode("header_value_too_long")
    /// More attachments than allowed (default 20).
    public static let tooManyAttachments = ErrorCode("too_many_attachments")
    /// One attachment's decoded content is larger than allowed (default 25 MB).
    public static let attachmentTooLarge = ErrorCode("attachment_too_large")

    public static let messageCodes: [ErrorCode] = [
        .headerForbiddenCharacters, .headerReserved, .headerNameInvalid, .tooManyHeaders, .subjectTooLong,
        .bodyTooLarge, .invalidAddress, .noRecipients, .attachmentInvalidBase64, .attachmentInvalid,
        .messageTooLarge, .noSender, .tooManyRecipients, .headerValueTooLong, .tooManyAttachments,
        .attachmentTooLarge,
    ]
}
