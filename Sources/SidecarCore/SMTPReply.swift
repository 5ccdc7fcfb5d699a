/// An SMTP server reply as reported to clients: the basic code (RFC 5321 §4.2), the
/// enhanced status code when the server sent one (RFC 3463, e.g. `5.7.8`), and the text
/// with multi-line replies joined by `\n`.
public struct SMTPReply: Sendable, Hashable, Codable, CustomStringConvertible {
    public var code: Int
    public var enhancedCode: String?
    public var text: String

    public init(code: Int, enhancedCode: String? = nil, text: String) {
        self.code = code
        self.enhancedCode = enhancedCode
        self.text = text
    }

    /// 2yz.
    public var isPositiveCompletion: Bool { (200..<300).contains(code) }
    /// 4yz: the same command may succeed later.
    public var isTransientFailure: Bool { (400..<500).contains(code) }
    /// 5yz.
    public var isPermanentFailure: Bool { (500..<600).contains(code) }

    public var description: String {
        [String(code), enhancedCode, text].compactMap { $0 }.joined(separator: " ")
    }

    enum CodingKeys: String, CodingKey {
        case code
        case enhancedCode = "enhanced_code"
        case text
    }
}
