import NIOCore
import SidecarMessage

/// The ``MessageByteSink`` that streams a composed message into the channel during DATA:
/// it dot-stuffs each chunk and hands it to the handler, then waits until the chunk has
/// gone to the socket before accepting the next, so at most one chunk is buffered
/// however fast the composer is and however slowly the server reads.
struct SMTPBodyWriter: MessageByteSink {
    private let handler: NIOLoopBound<SMTPClientHandler>
    private let allocator: ByteBufferAllocator
    private var stuffer = DotStuffer()

    init(handler: NIOLoopBound<SMTPClientHandler>, allocator: ByteBufferAllocator) {
        self.handler = handler
        self.allocator = allocator
    }

    /// Bytes of the message written so far (before stuffing).
    var byteCount: Int { stuffer.inputByteCount }

    nonisolated(nonsending) mutating func write(_ bytes: [UInt8]) async throws {
        guard !bytes.isEmpty else { return }
        // Stuffing adds a byte per line starting with "."; lines are at least 3 bytes.
        var buffer = allocator.buffer(capacity: bytes.count + bytes.count / 3 + 2)
        stuffer.stuff(bytes, into: &buffer)
        try await send(buffer)
    }

    /// Ends the data with CRLF if it does not already (never needed for composer output).
    nonisolated(nonsending) mutating func finish() async throws {
        var buffer = allocator.buffer(capacity: 2)
        stuffer.finish(into: &buffer)
        if buffer.readableBytes > 0 { try await send(buffer) }
    }

    private nonisolated(nonsending) func send(_ buffer: ByteBuffer) async throws {
        let eventLoop = handler.eventLoop
        let promise = eventLoop.makePromise(of: Void.self)
        let handler = self.handler
        eventLoop.execute { handler.value.writeBody(buffer, promise: promise) }
        try await promise.futureResult.get()
    }
}
