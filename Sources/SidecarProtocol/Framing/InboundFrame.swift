import NIOCore

/// What the frame decoder produces from the byte stream of a client connection.
///
/// Framing problems are values, not thrown errors, so the connection can answer them
/// in order with the requests before it, and decide itself whether to go on.
public enum InboundFrame: Sendable, Equatable {
    /// One complete frame's payload (the bytes after the 4-byte length).
    case payload(ByteBuffer)
    /// A frame header announced `declaredLength` bytes, more than the limit. The payload is
    /// never buffered: the decoder discards every byte after this header. The connection
    /// must be closed once responses for earlier requests have been written.
    case oversized(declaredLength: UInt32, limit: UInt32)
    /// The stream ended after `received` of the `expected` bytes of a frame (header included).
    case truncated(received: Int, expected: Int)
}
