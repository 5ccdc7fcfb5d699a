/// Receives a message's bytes as ``ComposedMessage/write(to:)`` produces them, in
/// order, in chunks of 64 to about 160 KiB (the last one smaller).
///
/// The bytes have CRLF line endings and no line over 998 octets; they are not
/// dot-stuffed (that is the SMTP DATA layer's job). An error thrown here stops the writing
/// and is rethrown to the caller.
public protocol MessageByteSink {
    nonisolated(nonsending) mutating func write(_ bytes: [UInt8]) async throws
}

/// Collects the whole message in memory (tests, small messages).
public struct ByteArraySink: MessageByteSink, Sendable {
    public private(set) var bytes: [UInt8] = []

    /// `capacity`: the expected total, e.g. ``ComposedMessage/byteCount``, so the array is
    /// allocated once instead of growing by doubling.
    public init(reservingCapacity capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    public nonisolated(nonsending) mutating func write(_ bytes: [UInt8]) async throws {
        self.bytes += bytes
    }
}
