import NIOCore

/// Decodes server replies (RFC 5321 §4.2): `code SP text CRLF`, or lines of
/// `code "-" text CRLF` ending with a `code SP` line. A bare LF is accepted as a line end.
///
/// A hostile server cannot make it buffer without bound: a line is refused once it passes
/// ``Limits/maximumLineLength`` bytes, even before its end has arrived, and a reply once it
/// has more than ``Limits/maximumLines`` lines. Complete lines are consumed from the
/// buffer as they arrive; only the current reply's parsed lines are kept.
struct SMTPReplyDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = SMTPResponse

    struct Limits: Sendable, Hashable {
        /// The longest line accepted, without its CRLF. RFC 5321 §4.5.3.1.5 allows 512
        /// octets with the CRLF; real servers exceed it a little, hostile ones a lot.
        var maximumLineLength: Int
        /// The most lines one reply may have (EHLO replies have about 10-20).
        var maximumLines: Int

        static let `default` = Limits(maximumLineLength: 4096, maximumLines: 128)
    }

    let limits: Limits
    /// The lines of a multi-line reply received so far.
    private var pendingLines: [String] = []
    private var pendingCode: Int?
    private var pendingEnhancedCode: String?

    init(limits: Limits = .default) {
        self.limits = limits
    }

    /// Whether part of a reply has been consumed from the buffer (lines of an unfinished
    /// multi-line reply).
    var hasPartialReply: Bool { pendingCode != nil }

    mutating func decode(buffer: inout ByteBuffer) throws -> SMTPResponse? {
        while true {
            let searchLength = min(buffer.readableBytes, limits.maximumLineLength + 2)
            guard let lineFeed = buffer.readableBytesView.prefix(searchLength).firstIndex(of: UInt8(ascii: "\n")) else {
                if buffer.readableBytes > limits.maximumLineLength + 1 {
                    throw SMTPReplyDecodingError(.lineTooLong)
                }
                return nil
            }
            let offset = lineFeed - buffer.readableBytesView.startIndex
            var line = buffer.readBytes(length: offset + 1)!
            line.removeLast()  // LF
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            if line.count > limits.maximumLineLength {
                throw SMTPReplyDecodingError(.lineTooLong)
            }
            if let reply = try consume(line: line) {
                return reply
            }
        }
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> SMTPResponse? {
        try decode(buffer: &buffer)
    }

    private mutating func consume(line: [UInt8]) throws -> SMTPResponse? {
        let text = String(decoding: line, as: UTF8.self)
        guard line.count >= 3,
            let code = Int(String(decoding: line[0..<3], as: UTF8.self)),
            line[0...2].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            (200...599).contains(code)
        else {
            throw SMTPReplyDecodingError(.malformedLine, line: text)
        }
        let isLast: Bool
        switch line.count > 3 ? line[3] : UInt8(ascii: " ") {
        case UInt8(ascii: " "): isLast = true
        case UInt8(ascii: "-"): isLast = false
        default: throw SMTPReplyDecodingError(.malformedLine, line: text)
        }
        if let pendingCode, pendingCode != code {
            throw SMTPReplyDecodingError(.inconsistentCode, line: text)
        }
        if pendingLines.count + 1 > limits.maximumLines {
            throw SMTPReplyDecodingError(.tooManyLines)
        }
        let rest = line.count > 4 ? String(decoding: line[4...], as: UTF8.self) : ""
        let (enhanced, lineText) = EnhancedStatusCode.split(rest, replyCode: code)
        if pendingCode == nil {
            pendingCode = code
            pendingEnhancedCode = enhanced
        }
        pendingLines.append(lineText)
        guard isLast else { return nil }
        let reply = SMTPResponse(code: code, enhancedCode: pendingEnhancedCode, lines: pendingLines)
        pendingLines = []
        pendingCode = nil
        pendingEnhancedCode = nil
        return reply
    }
}
