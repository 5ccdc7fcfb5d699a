/// Streaming quoted-printable (RFC 2045 §6.7).
///
/// Printable ASCII except `=` is written as is (rule 2); every other byte as `=XX` with
/// upper-case hex (rule 1); a space or tab is written as is unless it ends a line or the
/// content, where it is encoded (rule 3); line breaks are CRLF (rule 4); lines are cut
/// with a soft line break `=` so none exceeds 76 characters (rule 5).
struct QuotedPrintableEncoder: TransferEncoder {
    /// Characters allowed on a line before a soft break's `=`.
    private static let maxContentColumns = 75

    private var column = 0
    private var pendingWhitespace: UInt8?

    mutating func byte<Output: ByteOutput>(_ byte: UInt8, into output: inout Output) {
        if let whitespace = pendingWhitespace {
            // Whitespace followed by more text on the same line stays literal.
            pendingWhitespace = nil
            emitLiteral(whitespace, into: &output)
        }
        switch byte {
        case ASCII.space, ASCII.tab:
            pendingWhitespace = byte
        case 33...126 where byte != ASCII.equals:
            emitLiteral(byte, into: &output)
        default:
            emitEscaped(byte, into: &output)
        }
    }

    mutating func lineBreak<Output: ByteOutput>(into output: inout Output) {
        flushPendingWhitespaceEncoded(into: &output)
        output.append(contentsOf: ASCII.crlf)
        column = 0
    }

    mutating func finish<Output: ByteOutput>(into output: inout Output) {
        flushPendingWhitespaceEncoded(into: &output)
    }

    private mutating func flushPendingWhitespaceEncoded<Output: ByteOutput>(into output: inout Output) {
        if let whitespace = pendingWhitespace {
            pendingWhitespace = nil
            emitEscaped(whitespace, into: &output)
        }
    }

    private mutating func emitLiteral<Output: ByteOutput>(_ byte: UInt8, into output: inout Output) {
        softBreakIfNeeded(for: 1, into: &output)
        output.append(byte)
        column += 1
    }

    private mutating func emitEscaped<Output: ByteOutput>(_ byte: UInt8, into output: inout Output) {
        softBreakIfNeeded(for: 3, into: &output)
        output.append(ASCII.equals)
        output.append(ASCII.upperHexDigits[Int(byte >> 4)])
        output.append(ASCII.upperHexDigits[Int(byte & 0x0F)])
        column += 3
    }

    private mutating func softBreakIfNeeded<Output: ByteOutput>(for width: Int, into output: inout Output) {
        if column + width > Self.maxContentColumns {
            output.append(ASCII.equals)
            output.append(contentsOf: ASCII.crlf)
            column = 0
        }
    }
}
