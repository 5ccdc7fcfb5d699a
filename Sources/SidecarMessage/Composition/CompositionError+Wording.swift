import SidecarCore

/// The composer's errors, with messages written for the author of a workflow: what is
/// wrong, where, and what to do. None is retryable: the same draft fails the same way.
extension CompositionError {
    static func forbiddenCharacters(field: DraftField, what: String) -> CompositionError {
        CompositionError(
            code: .headerForbiddenCharacters,
            message: "\(what) contains a line break (CR or LF), which is not allowed in an email header. "
                + "Remove line breaks from the value passed to this field.",
            field: field)
    }

    static func headerReserved(name: String, field: DraftField) -> CompositionError {
        CompositionError(
            code: .headerReserved,
            message: "The custom header \"\(name)\" is reserved and cannot be set. "
                + "Use the dedicated parameter instead (from, to, cc, bcc, reply_to, subject).",
            field: field)
    }

    static func headerConflictsWithPriority(name: String, field: DraftField) -> CompositionError {
        CompositionError(
            code: .headerReserved,
            message: "The custom header \"\(name)\" is set by the priority parameter. Remove one of the two.",
            field: field)
    }

    static func headerNameInvalid(name: String, field: DraftField) -> CompositionError {
        CompositionError(
            code: .headerNameInvalid,
            message: "The custom header name \"\(excerpt(name))\" is not valid. A header name is 1 to "
                + "\(CustomHeader.maxNameLength) characters of ASCII letters, digits and punctuation, "
                + "with no spaces and no colon, like X-Campaign-Id.",
            field: field)
    }

    static func tooManyHeaders(count: Int, limit: Int) -> CompositionError {
        CompositionError(
            code: .tooManyHeaders,
            message: "The message has \(count) custom headers; at most \(limit) are allowed.",
            field: .headers)
    }

    static func headerValueTooLong(name: String, bytes: Int, limit: Int, field: DraftField) -> CompositionError {
        CompositionError(
            code: .headerValueTooLong,
            message: "The value of the custom header \"\(name)\" is \(bytes) bytes long; "
                + "at most \(limit) bytes are allowed.",
            field: field)
    }

    static func subjectTooLong(length: Int, limit: Int) -> CompositionError {
        CompositionError(
            code: .subjectTooLong,
            message: "The subject is \(length) characters long; at most \(limit) are allowed. Shorten it.",
            field: .subject)
    }

    static func bodyTooLarge(field: DraftField, what: String, bytes: Int, limit: Int) -> CompositionError {
        CompositionError(
            code: .bodyTooLarge,
            message: "\(what) is \(bytes) bytes of UTF-8; at most \(limit) bytes (\(megabytes(limit))) are allowed. "
                + "Send large content as an attachment.",
            field: field)
    }

    static func invalidAddress(field: DraftField, entry: String, reason: String) -> CompositionError {
        CompositionError(
            code: .invalidAddress,
            message: "\"\(excerpt(entry))\" in \(field) is not a valid email address: \(reason). "
                + "Use addr@example.com or Name <addr@example.com>, separated by commas.",
            field: field)
    }

    static func singleAddressExpected(field: DraftField, count: Int) -> CompositionError {
        CompositionError(
            code: .invalidAddress,
            message: "\(field) takes a single address, but \(count) were given.",
            field: field)
    }

    static let noSender = CompositionError(
        code: .noSender,
        message: "The message has no sender. Set from.",
        field: .from)

    static let noRecipients = CompositionError(
        code: .noRecipients,
        message: "The message has no recipient. Give at least one address in to, cc or bcc.",
        field: .to(index: nil))

    static func tooManyRecipients(count: Int, limit: Int) -> CompositionError {
        CompositionError(
            code: .tooManyRecipients,
            message: "The message has \(count) different recipients in to, cc and bcc; at most \(limit) are allowed. "
                + "Split the send into several messages.",
            field: .to(index: nil))
    }

    static func tooManyAttachments(count: Int, limit: Int) -> CompositionError {
        CompositionError(
            code: .tooManyAttachments,
            message: "The message has \(count) attachments; at most \(limit) are allowed.",
            field: .attachments)
    }

    static func attachmentInvalidBase64(index: Int, filename: String, failure: Base64Decoder.Failure) -> CompositionError {
        let detail =
            switch failure {
            case .invalidCharacter(let byte, let offset):
                (32...126).contains(byte)
                    ? "the character \"\(Character(Unicode.Scalar(byte)))\" at position \(offset) is not base64"
                    : "the byte 0x\(String(byte, radix: 16, uppercase: true)) at position \(offset) is not base64"
            case .misplacedPadding(let offset):
                "the padding \"=\" at position \(offset) is misplaced, or data follows it"
            case .truncated:
                "the content ends in the middle of a base64 group"
            }
        return CompositionError(
            code: .attachmentInvalidBase64,
            message: "The content of attachments[\(index)] (\"\(excerpt(filename))\") is not valid base64: \(detail). "
                + "Pass the file's bytes encoded as standard base64, without a data: URL prefix.",
            field: .attachment(index: index, .contentBase64))
    }

    static func attachmentInvalid(index: Int, part: DraftField.AttachmentPart, reason: String) -> CompositionError {
        CompositionError(
            code: .attachmentInvalid,
            message: "attachments[\(index)]: \(reason)",
            field: .attachment(index: index, part))
    }

    static func attachmentTooLarge(index: Int, limit: Int) -> CompositionError {
        CompositionError(
            code: .attachmentTooLarge,
            message: "attachments[\(index)] is larger than \(limit) bytes (\(megabytes(limit))), the limit for one attachment.",
            field: .attachment(index: index, nil))
    }

    static func attachmentSizeMismatch(index: Int, expected: Int) -> CompositionError {
        CompositionError(
            code: .attachmentInvalid,
            message: "attachments[\(index)] did not have the \(expected) bytes its source announced.",
            field: .attachment(index: index, nil))
    }

    static func messageTooLarge(limit: Int, size: Int? = nil) -> CompositionError {
        let actual = size.map { " is \($0) bytes; it" } ?? ""
        return CompositionError(
            code: .messageTooLarge,
            message: "The composed message\(actual) exceeds the limit of \(limit) bytes (\(megabytes(limit))). "
                + "Send fewer or smaller attachments.")
    }

    private static func excerpt(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard scalars.count > 120 else { return text }
        return String(String.UnicodeScalarView(scalars.prefix(117))) + "..."
    }

    private static func megabytes(_ bytes: Int) -> String {
        let tenths = (bytes + 50_000) / 100_000
        return tenths % 10 == 0 ? "\(tenths / 10) MB" : "\(tenths / 10).\(tenths % 10) MB"
    }
}
