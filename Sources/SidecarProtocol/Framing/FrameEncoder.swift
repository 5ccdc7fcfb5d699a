import NIOCore

/// Writes each outbound payload as one frame: its length as a 4-byte unsigned big-endian
/// integer, then the payload bytes.
public struct FrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = ByteBuffer

    public init() {}

    public func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        guard let length = UInt32(exactly: data.readableBytes) else {
            throw FrameEncodingError(length: data.readableBytes)
        }
        out.reserveCapacity(FrameDecoder.headerLength + data.readableBytes)
        out.writeInteger(length, endianness: .big)
        out.writeImmutableBuffer(data)
    }
}

/// A payload longer than a 32-bit length can describe.
public struct FrameEncodingError: Error, Hashable, Sendable {
    public let length: Int
}

extension ByteBuffer {
    /// Appends `payload` as one frame (length prefix, then the bytes).
    public mutating func writeFrame(_ payload: some Collection<UInt8>) {
        writeInteger(UInt32(payload.count), endianness: .big)
        writeBytes(payload)
    }
}
