import NIOCore
import SidecarMessage

/// The ``MessageByteSink`` that streams a composed message into the channel: it frames
/// the bytes for the transfer (dot-stuffed after DATA, as they are after BDAT), gathers
/// the composer's small pieces into chunks of up to ``chunkSize`` bytes and hands each to
/// the handler, then waits until the chunk has gone to the socket before taking more, so
/// at most about one chunk is buffered however fast the composer is and however slowly
/// the server reads.
struct SMTPBodyWriter: MessageByteSink {
    static let chunkSize = 64 * 1024

    private let handler: NIOLoopBound<SMTPClientHandler>
    private let allocator: ByteBufferAllocator
    private let dotStuffing: Bool
    private var stuffer = DotStuffer()
    private var chunk: ByteBuffer

    init(handler: NIOLoopBound<SMTPClientHandler>, allocator: ByteBufferAllocator, dotStuffing: Bool) {
        self.handler = handler
        self.allocator = allocator
        self.dotStuffing = dotStuffing
        self.chunk = allocator.buffer(capacity: 0)
    }

    /// Bytes of the message written so far (before stuffing).
    var byteCount: Int { stuffer.inputByteCount }

    nonisolated(nonsending) mutating func write(_ bytes: [UInt8]) async throws {
        guard !bytes.isEmpty else { return }
        if chunk.capacity == 0 {
            // Stuffing adds a byte per line starting with "."; lines are at least 3 bytes.
            chunk = allocator.buffer(capacity: Self.chunkSize + Self.chunkSize / 3 + 2)
        }
        if dotStuffing {
            stuffer.stuff(bytes, into: &chunk)
        } else {
            chunk.writeBytes(bytes)
        }
        if chunk.readableBytes >= Self.chunkSize { try await flushChunk() }
    }

    /// Sends what is gathered. DATA: ends the data with CRLF if it does not already (never
    /// needed for composer output).
    nonisolated(nonsending) mutating func finish() async throws {
        if dotStuffing { stuffer.finish(into: &chunk) }
        try await flushChunk()
    }

    private nonisolated(nonsending) mutating func flushChunk() async throws {
        guard chunk.readableBytes > 0 else { return }
        let buffer = chunk
        chunk = allocator.buffer(capacity: 0)
        let eventLoop = handler.eventLoop
        let promise = eventLoop.makePromise(of: Void.self)
        let handler = self.handler
        eventLoop.execute { handler.value.writeBody(buffer, promise: promise) }
        try await promise.futureResult.get()
    }
}
