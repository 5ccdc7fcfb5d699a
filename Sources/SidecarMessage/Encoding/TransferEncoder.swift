/// A streaming Content-Transfer-Encoding encoder fed with text whose line breaks have
/// already been recognised (``LineBreakNormalizer``): content bytes and line breaks
/// arrive as separate events, so each encoder decides how a line break is written.
protocol TransferEncoder {
    /// One content byte (never CR or LF).
    mutating func byte<Output: ByteOutput>(_ byte: UInt8, into output: inout Output)
    /// A run of content bytes (none of them CR or LF). By default byte by byte; an
    /// encoder that can take a run at once says so.
    mutating func bytes<Output: ByteOutput>(_ run: UnsafeBufferPointer<UInt8>, into output: inout Output)
    /// A line break in the content.
    mutating func lineBreak<Output: ByteOutput>(into output: inout Output)
    /// The end of the content.
    mutating func finish<Output: ByteOutput>(into output: inout Output)
}

extension TransferEncoder {
    mutating func bytes<Output: ByteOutput>(_ run: UnsafeBufferPointer<UInt8>, into output: inout Output) {
        for byte in run { self.byte(byte, into: &output) }
    }
}

/// 7bit and 8bit "encoding": bytes pass through, line breaks become CRLF.
struct IdentityTransferEncoder: TransferEncoder {
    mutating func byte<Output: ByteOutput>(_ byte: UInt8, into output: inout Output) {
        output.append(byte)
    }

    mutating func bytes<Output: ByteOutput>(_ run: UnsafeBufferPointer<UInt8>, into output: inout Output) {
        output.append(contentsOf: run)
    }

    mutating func lineBreak<Output: ByteOutput>(into output: inout Output) {
        output.append(contentsOf: ASCII.crlf)
    }

    mutating func finish<Output: ByteOutput>(into output: inout Output) {}
}
