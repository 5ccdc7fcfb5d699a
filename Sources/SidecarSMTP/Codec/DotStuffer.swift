import NIOCore

/// Transparency for DATA (RFC 5321 §4.5.2): a line that starts with `.` gets another `.`
/// before it. Works chunk by chunk, remembering across chunks whether the next byte starts
/// a line, and whether the data so far ends with CRLF, so ``finish()`` can add one before
/// the terminating `.` CRLF.
struct DotStuffer: Sendable {
    private var atLineStart = true
    private var lastTwo: (UInt8, UInt8) = (0, 0)
    private var byteCount = 0

    /// Bytes of input seen so far (before stuffing).
    var inputByteCount: Int { byteCount }

    /// Appends `bytes`, dot-stuffed, to `buffer`.
    mutating func stuff(_ bytes: some Collection<UInt8>, into buffer: inout ByteBuffer) {
        guard !bytes.isEmpty else { return }
        var runStart = bytes.startIndex
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if atLineStart && byte == UInt8(ascii: ".") {
                buffer.writeBytes(bytes[runStart..<index])
                buffer.writeInteger(UInt8(ascii: "."))
                runStart = index
            }
            atLineStart = byte == UInt8(ascii: "\n")
            lastTwo = (lastTwo.1, byte)
            index = bytes.index(after: index)
        }
        buffer.writeBytes(bytes[runStart..<bytes.endIndex])
        byteCount += bytes.count
    }

    /// Appends the whole of `message`, dot-stuffed and ending with CRLF, to `buffer`: all of
    /// a DATA transfer but the terminating `.` CRLF.
    static func stuffWhole(_ message: ByteBuffer, into buffer: inout ByteBuffer) {
        var stuffer = DotStuffer()
        buffer.reserveCapacity(minimumWritableBytes: message.readableBytes + message.readableBytes / 64 + 5)
        message.withUnsafeReadableBytes { stuffer.stuff($0, into: &buffer) }
        stuffer.finish(into: &buffer)
    }

    /// What must follow the data before `.` CRLF: CRLF unless the data is empty or
    /// already ends with CRLF.
    func finish(into buffer: inout ByteBuffer) {
        if byteCount > 0 && !(lastTwo.0 == UInt8(ascii: "\r") && lastTwo.1 == UInt8(ascii: "\n")) {
            buffer.writeStaticString("\r\n")
        }
    }
}
