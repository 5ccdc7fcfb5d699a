/// Why bytes from the server are not a valid SMTP reply. The connection cannot continue
/// after one of these: the client closes it and reports `smtp_protocol_error`.
struct SMTPReplyDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    enum Kind: String, Sendable, Hashable {
        /// A line (or the bytes so far without a line end) is longer than the limit.
        case lineTooLong = "line_too_long"
        /// A multi-line reply has more lines than the limit.
        case tooManyLines = "too_many_lines"
        /// A line does not start with a three-digit code 200-599 followed by SP, `-` or the end.
        case malformedLine = "malformed_line"
        /// A line of a multi-line reply has a different code than the first line.
        case inconsistentCode = "inconsistent_code"
    }

    var kind: Kind
    /// The start of the offending line (at most 80 bytes, for logs), when there is one.
    var line: String?

    init(_ kind: Kind, line: String? = nil) {
        self.kind = kind
        self.line = line.map { String($0.prefix(80)) }
    }

    var description: String {
        switch kind {
        case .lineTooLong: "reply line too long"
        case .tooManyLines: "reply has too many lines"
        case .malformedLine: "malformed reply line \(line.map { "'\($0)'" } ?? "")"
        case .inconsistentCode: "reply lines with different codes \(line.map { "'\($0)'" } ?? "")"
        }
    }
}
