import Foundation
import NIOCore
import NIOPosix
import SidecarClient
import SidecarProtocol

/// A test client that writes arbitrary bytes to the server and reads back decoded frames,
/// to exercise malformed input the real client would never send.
public final class RawClient: Sendable {
    public let channel: any Channel
    let frames: AsyncStream<InboundFrame>

    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = InboundFrame
        let continuation: AsyncStream<InboundFrame>.Continuation

        init(continuation: AsyncStream<InboundFrame>.Continuation) {
            self.continuation = continuation
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            continuation.yield(unwrapInboundIn(data))
        }

        func channelInactive(context: ChannelHandlerContext) {
            continuation.finish()
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if event as? ChannelEvent == .inputClosed { continuation.finish() }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            continuation.finish()
            context.close(promise: nil)
        }
    }

    private init(channel: any Channel, frames: AsyncStream<InboundFrame>) {
        self.channel = channel
        self.frames = frames
    }

    public static func connect(_ path: String) async throws -> RawClient {
        let (stream, continuation) = AsyncStream<InboundFrame>.makeStream()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(FrameDecoder(maxPayloadLength: 64 * 1024 * 1024)))
                    try channel.pipeline.syncOperations.addHandler(Collector(continuation: continuation))
                }
            }
            .connect(unixDomainSocketPath: path).get()
        return RawClient(channel: channel, frames: stream)
    }

    public func write(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    public func writeFrame(_ json: String) async throws {
        var buffer = ByteBuffer()
        buffer.writeFrame(Array(json.utf8))
        try await channel.writeAndFlush(buffer)
    }

    /// Closes our sending side; the server sees end of input.
    public func shutdownWrite() async throws {
        try await channel.close(mode: .output)
    }

    public func close() async {
        try? await channel.close()
    }

    /// The next `count` responses as JSON, or fewer if the server closes first.
    public func responses(_ count: Int, timeout: Duration = .seconds(10)) async throws -> [JSONValue] {
        try await rawResponses(count, timeout: timeout).map(JSONValue.parse)
    }

    /// Waits until the server closes the connection; returns any responses before that.
    public func responsesUntilClosed(timeout: Duration = .seconds(10)) async throws -> [JSONValue] {
        try await rawResponses(Int.max, timeout: timeout).map(JSONValue.parse)
    }

    /// The payloads of the next `count` frames (`Int.max`: until the server closes).
    public func rawResponses(_ count: Int, timeout: Duration = .seconds(10)) async throws -> [Data] {
        try await withTimeout(timeout) {
            var collected: [Data] = []
            for await frame in self.frames {
                guard case .payload(let payload) = frame else { continue }
                collected.append(Data(payload.readableBytesView))
                if collected.count == count { break }
            }
            return collected
        }
    }
}

public struct TimedOut: Error, CustomStringConvertible {
    public init() {}

    public var description: String { "timed out" }
}

/// Runs `body`, failing with ``TimedOut`` if it takes longer than `timeout`.
public func withTimeout<Result: Sendable>(
    _ timeout: Duration, _ body: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Result.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw TimedOut()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
