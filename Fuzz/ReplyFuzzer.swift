import NIOCore
@testable import SidecarSMTP

/// The fuzz target of the SMTP reply decoder (``SMTPReplyDecoder``): what the client does
/// with the bytes a hostile server sends. Besides not trapping, it checks:
///
/// - every reply has a code of 200-599, one to `maximumLines` lines, each no longer than
///   `maximumLineLength`, and an enhanced code only of the reply's class;
/// - how the bytes are cut into reads changes nothing: the same replies, then the same
///   error (or none), as from one read of everything;
/// - a reply written out again (`code-text` lines, the enhanced code on each) decodes to
///   the same reply.
///
/// Input: the first byte picks the limits (even: the daemon's defaults; odd: small ones,
/// so they are reached) and the second the size of each read; the rest is the stream.
public enum ReplyFuzzer {
    static let small = SMTPReplyDecoder.Limits(maximumLineLength: 40, maximumLines: 4)
    /// For decoding a reply written out again: invalid UTF-8 became U+FFFD, 3 bytes for 1.
    static let roomy = SMTPReplyDecoder.Limits(maximumLineLength: 1 << 20, maximumLines: 1 << 16)

    public static func run(_ input: UnsafeRawBufferPointer) {
        guard input.count >= 2 else { return }
        let limits = input[0] % 2 == 0 ? SMTPReplyDecoder.Limits.default : small
        let chunk = max(1, Int(input[1]))
        let stream = UnsafeRawBufferPointer(rebasing: input.dropFirst(2))

        let whole = decode(stream, limits: limits, chunk: max(1, stream.count))
        let pieces = decode(stream, limits: limits, chunk: chunk)
        precondition(whole.replies == pieces.replies, "replies depend on how the bytes were read")
        precondition(whole.error == pieces.error, "the error depends on how the bytes were read: \(String(describing: whole.error)) vs \(String(describing: pieces.error))")

        for reply in whole.replies {
            precondition((200...599).contains(reply.code), "code \(reply.code)")
            precondition((1...limits.maximumLines).contains(reply.lines.count), "\(reply.lines.count) lines")
            for line in reply.lines {
                // Each scalar came from at least one byte of the line (U+FFFD from one).
                precondition(line.unicodeScalars.count <= limits.maximumLineLength, "a line past the limit")
                precondition(!line.utf8.contains(UInt8(ascii: "\n")), "a line holds a line feed")
            }
            if let enhanced = reply.enhancedCode {
                precondition(enhanced.utf8.first == UInt8(ascii: "0") + UInt8(reply.code / 100), "enhanced \(enhanced) for \(reply.code)")
            }
            roundTrip(reply)
        }
    }

    struct Decoded {
        var replies: [SMTPResponse] = []
        var error: SMTPReplyDecodingError.Kind?
    }

    static func decode(_ stream: UnsafeRawBufferPointer, limits: SMTPReplyDecoder.Limits, chunk: Int) -> Decoded {
        let processor = NIOSingleStepByteToMessageProcessor(SMTPReplyDecoder(limits: limits))
        var decoded = Decoded()
        do {
            var offset = 0
            while offset < stream.count {
                let end = min(stream.count, offset + chunk)
                try processor.process(buffer: ByteBuffer(bytes: stream[offset..<end])) { decoded.replies.append($0) }
                offset = end
            }
            try processor.finishProcessing(seenEOF: true) { decoded.replies.append($0) }
        } catch let error as SMTPReplyDecodingError {
            decoded.error = error.kind
        } catch {
            preconditionFailure("an error that is not SMTPReplyDecodingError: \(error)")
        }
        return decoded
    }

    /// Writes `reply` out again and decodes it. Without an enhanced code, a later line's
    /// text may itself start with one (the decoder took one off a `250 2.1.0 2.1.0 x`):
    /// written out bare it would lose it, so such replies are not compared.
    static func roundTrip(_ reply: SMTPResponse) {
        if reply.enhancedCode == nil,
            reply.lines.contains(where: { EnhancedStatusCode.split($0, replyCode: reply.code).code != nil })
        {
            return
        }
        var bytes: [UInt8] = []
        for (index, line) in reply.lines.enumerated() {
            bytes += Array(String(reply.code).utf8)
            bytes.append(index == reply.lines.count - 1 ? UInt8(ascii: " ") : UInt8(ascii: "-"))
            if let enhanced = reply.enhancedCode { bytes += Array((enhanced + " ").utf8) }
            bytes += Array(line.utf8)
            bytes += [13, 10]
        }
        var processor = SMTPReplyDecoder(limits: roomy)
        var buffer = ByteBuffer(bytes: bytes)
        let again = try! processor.decode(buffer: &buffer)
        precondition(again == reply, "\(reply) written out decodes as \(String(describing: again))")
        precondition(buffer.readableBytes == 0)
    }
}
