/// A header the workflow author adds to the message (`params.headers`).
///
/// The name must be an RFC 5322 field name (printable ASCII except `:`, at most
/// ``maxNameLength`` characters) and not one of ``reservedNames``; the value is unstructured
/// text, encoded per RFC 2047 when it is not plain ASCII.
public struct CustomHeader: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Longest accepted field name, so that `Name: ` always leaves room on the first line.
    public static let maxNameLength = 76

    /// Names a custom header may not use, compared case-insensitively: they would override
    /// what the composer sets from dedicated parameters, forge trace or authentication
    /// fields, or break the MIME structure. The last three guard JavaScript clients that
    /// turn headers into objects.
    public static let reservedNames: Set<String> = [
        "from", "sender", "to", "cc", "bcc", "reply-to", "return-path", "message-id", "in-reply-to",
        "references", "date", "content-type", "content-transfer-encoding", "mime-version", "dkim-signature",
        "received", "authentication-results", "x-original-to", "delivered-to", "__proto__", "constructor",
        "prototype",
    ]

    /// Whether `name` is a syntactically valid field name (RFC 5322 §3.6.8 `ftext`).
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= maxNameLength
            && name.utf8.allSatisfy { (33...126).contains($0) && $0 != UInt8(ascii: ":") }
    }

    /// Whether `name` is reserved, ignoring case.
    public static func isReserved(_ name: String) -> Bool {
        reservedNames.contains(asciiLowercased(name))
    }

    static func asciiLowercased(_ text: String) -> String {
        String(decoding: text.utf8.map { (65...90).contains($0) ? $0 + 32 : $0 }, as: UTF8.self)
    }
}
