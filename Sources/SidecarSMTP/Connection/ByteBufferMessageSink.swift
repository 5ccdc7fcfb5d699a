import NIOCore
import SidecarMessage

/// Collects a whole message into one buffer, for a message small enough to be sent
/// together with the commands before it.
struct ByteBufferMessageSink: MessageByteSink {
    private(set) var buffer: ByteBuffer

    init(allocator: ByteBufferAllocator, capacity: Int) {
        buffer = allocator.buffer(capacity: capacity)
    }

    nonisolated(nonsending) mutating func write(_ bytes: [UInt8]) async throws {
        buffer.writeBytes(bytes)
    }
}
