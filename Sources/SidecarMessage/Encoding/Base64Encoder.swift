/// Streaming base64 (RFC 2045 §6.8): lines of at most 76 characters separated by CRLF,
/// no line break after the last line (the enclosing part adds the CRLF that precedes the
/// next boundary or ends the message).
struct Base64Encoder: TransferEncoder {
    static let lineLength = 76
    private static let alphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private var pending: (UInt8, UInt8) = (0, 0)
    private var pendingCount = 0
    private var column = 0

    /// The exact encoded size of `byteCount` input bytes.
    static func encodedSize(of byteCount: Int) -> Int {
        guard byteCount > 0 else { return 0 }
        let characters = (byteCount + 2) / 3 * 4
        let lines = (characters + lineLength - 1) / lineLength
        return characters + 2 * (lines - 1)
    }

    mutating func byte<Output: ByteOutput>(_ byte: UInt8, into output: inout Output) {
        switch pendingCount {
        case 0:
            pending.0 = byte
            pendingCount = 1
        case 1:
            pending.1 = byte
            pendingCount = 2
        default:
            pendingCount = 0
            emitGroup(pending.0, pending.1, byte, count: 3, into: &output)
        }
    }

    mutating func lineBreak<Output: ByteOutput>(into output: inout Output) {
        byte(ASCII.cr, into: &output)
        byte(ASCII.lf, into: &output)
    }

    /// Encodes a whole chunk; faster than feeding bytes one at a time.
    mutating func encode<Output: ByteOutput>(_ bytes: some Collection<UInt8>, into output: inout Output) {
        var iterator = bytes.makeIterator()
        while pendingCount != 0 {
            guard let next = iterator.next() else { return }
            byte(next, into: &output)
        }
        while let a = iterator.next() {
            guard let b = iterator.next() else {
                pending.0 = a
                pendingCount = 1
                return
            }
            guard let c = iterator.next() else {
                pending = (a, b)
                pendingCount = 2
                return
            }
            emitGroup(a, b, c, count: 3, into: &output)
        }
    }

    mutating func finish<Output: ByteOutput>(into output: inout Output) {
        switch pendingCount {
        case 1: emitGroup(pending.0, 0, 0, count: 1, into: &output)
        case 2: emitGroup(pending.0, pending.1, 0, count: 2, into: &output)
        default: break
        }
        pendingCount = 0
    }

    private mutating func emitGroup<Output: ByteOutput>(
        _ a: UInt8, _ b: UInt8, _ c: UInt8, count: Int, into output: inout Output
    ) {
        if column == Self.lineLength {
            output.append(contentsOf: ASCII.crlf)
            column = 0
        }
        let alphabet = Self.alphabet
        output.append(alphabet[Int(a >> 2)])
        output.append(alphabet[Int((a & 0x03) << 4 | b >> 4)])
        output.append(count > 1 ? alphabet[Int((b & 0x0F) << 2 | c >> 6)] : ASCII.equals)
        output.append(count > 2 ? alphabet[Int(c & 0x3F)] : ASCII.equals)
        column += 4
    }
}
