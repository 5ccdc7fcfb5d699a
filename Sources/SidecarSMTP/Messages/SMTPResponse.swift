import SidecarCore

/// One complete server reply as it came off the wire (RFC 5321 §4.2): a three-digit code
/// and one or more lines of text, with the RFC 3463 enhanced status code parsed out.
///
/// `lines` hold each line's text after the code and separator, with the enhanced status
/// code (when a line starts with one of the reply's class) removed. The EHLO reply's
/// lines are its keywords.
struct SMTPResponse: Sendable, Hashable {
    var code: Int
    /// The enhanced status code of the first line (`5.7.8`), when the server sent one.
    var enhancedCode: String?
    var lines: [String]

    init(code: Int, enhancedCode: String? = nil, lines: [String]) {
        self.code = code
        self.enhancedCode = enhancedCode
        self.lines = lines
    }

    /// A convenience for tests and single-line replies: parses an enhanced code at the
    /// start of `text`, as the decoder does.
    init(_ code: Int, _ text: String) {
        let (enhanced, rest) = EnhancedStatusCode.split(text, replyCode: code)
        self.init(code: code, enhancedCode: enhanced, lines: [rest])
    }

    /// The reply as reported to clients: lines joined with `\n`.
    var reply: SMTPReply {
        SMTPReply(code: code, enhancedCode: enhancedCode, text: lines.joined(separator: "\n"))
    }

    /// 2yz.
    var isPositiveCompletion: Bool { (200..<300).contains(code) }
    /// 3yz.
    var isPositiveIntermediate: Bool { (300..<400).contains(code) }
    /// 4yz.
    var isTransientFailure: Bool { (400..<500).contains(code) }
    /// 5yz.
    var isPermanentFailure: Bool { (500..<600).contains(code) }
    /// 421: the server is closing the transmission channel (RFC 5321 §3.8).
    var isServiceClosing: Bool { code == 421 }
}
