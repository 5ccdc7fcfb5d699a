/// Turns raw text into ``TransferEncoder`` events, treating CRLF, a bare LF and a bare CR
/// each as one line break, so the output has CRLF line endings everywhere.
///
/// Streaming: a CR at the end of one chunk waits for the next chunk to see whether an LF
/// follows it.
struct LineBreakNormalizer {
    private var pendingCR = false

    mutating func feed<Encoder: TransferEncoder, Output: ByteOutput>(
        _ bytes: some Sequence<UInt8>, to encoder: inout Encoder, into output: inout Output
    ) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            feed(buffer: buffer, to: &encoder, into: &output)
        }
        if done != nil { return }
        for byte in bytes {
            if pendingCR {
                pendingCR = false
                encoder.lineBreak(into: &output)
                if byte == ASCII.lf { continue }
            }
            switch byte {
            case ASCII.cr: pendingCR = true
            case ASCII.lf: encoder.lineBreak(into: &output)
            default: encoder.byte(byte, into: &output)
            }
        }
    }

    /// The fast path: runs between line breaks go to the encoder whole.
    private mutating func feed<Encoder: TransferEncoder, Output: ByteOutput>(
        buffer: UnsafeBufferPointer<UInt8>, to encoder: inout Encoder, into output: inout Output
    ) {
        var index = 0
        let count = buffer.count
        if pendingCR, count > 0 {
            pendingCR = false
            encoder.lineBreak(into: &output)
            if buffer[0] == ASCII.lf { index = 1 }
        }
        var runStart = index
        while index < count {
            let byte = buffer[index]
            if byte > ASCII.cr || (byte != ASCII.cr && byte != ASCII.lf) {
                index += 1
                continue
            }
            if index > runStart {
                encoder.bytes(UnsafeBufferPointer(rebasing: buffer[runStart..<index]), into: &output)
            }
            if byte == ASCII.lf {
                encoder.lineBreak(into: &output)
                index += 1
            } else if index + 1 < count {
                encoder.lineBreak(into: &output)
                index += buffer[index + 1] == ASCII.lf ? 2 : 1
            } else {
                pendingCR = true
                index += 1
            }
            runStart = index
        }
        if count > runStart {
            encoder.bytes(UnsafeBufferPointer(rebasing: buffer[runStart..<count]), into: &output)
        }
    }

    mutating func finish<Encoder: TransferEncoder, Output: ByteOutput>(
        to encoder: inout Encoder, into output: inout Output
    ) {
        if pendingCR {
            pendingCR = false
            encoder.lineBreak(into: &output)
        }
        encoder.finish(into: &output)
    }
}
