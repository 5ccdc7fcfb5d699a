import NIOCore

/// Splits a byte stream into frames: a 4-byte unsigned big-endian payload length, then the
/// payload.
///
/// Unlike NIOExtras' `LengthFieldBasedFrameDecoder`, the limit is checked on the header
/// alone, before a single payload byte is buffered. After an oversized header the decoder
/// enters a terminal state in which it consumes and drops everything, so a hostile client
/// cannot make the server buffer anything.
///
/// States: `reading` → `discarding` (after an oversized header; terminal).
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = InboundFrame

    /// Size of the length prefix.
    public static let headerLength = 4

    private enum State {
        case reading
        case discarding
    }

    public let maxPayloadLength: UInt32
    private var state: State = .reading

    public init(maxPayloadLength: UInt32) {
        self.maxPayloadLength = maxPayloadLength
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> InboundFrame? {
        switch state {
        case .discarding:
            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
            return nil
        case .reading:
            guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else {
                return nil
            }
            if length > maxPayloadLength {
                state = .discarding
                buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
                return .oversized(declaredLength: length, limit: maxPayloadLength)
            }
            guard buffer.readableBytes >= Self.headerLength + Int(length) else {
                return nil
            }
            buffer.moveReaderIndex(forwardBy: Self.headerLength)
            // `readSlice` shares storage with the cumulation buffer; NIO copies on write.
            return .payload(buffer.readSlice(length: Int(length))!)
        }
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> InboundFrame? {
        if let frame = try decode(buffer: &buffer) {
            return frame
        }
        switch state {
        case .discarding:
            return nil
        case .reading:
            guard buffer.readableBytes > 0 else { return nil }
            let received = buffer.readableBytes
            let expected: Int
            if let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) {
                expected = Self.headerLength + Int(length)
            } else {
                expected = Self.headerLength
            }
            buffer.moveReaderIndex(forwardBy: received)
            return .truncated(received: received, expected: expected)
        }
    }
}
