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
