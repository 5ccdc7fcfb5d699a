import NIOCore
import NIOPosix
import Synchronization

/// A plaintext SMTP server on loopback that takes a whole message and then never sends
/// its final reply: the hostile server that leaves a send's outcome unknown. It offers no
/// extension (one command per round trip), accepts any MAIL and RCPT, and counts the
/// messages it received and the connections the client closed.
public final class StallAfterBodySMTPServer: Sendable {
    public let port: Int
    private let channel: any Channel
    private let counts: Counts

    private final class Counts: Sendable {
        let bodiesReceived = Atomic<Int>(0)
        let closedByPeer = Atomic<Int>(0)
        let open = Mutex<[ObjectIdentifier: any Channel]>([:])
    }

    private final class Session: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let counts: Counts
        var pending: [UInt8] = []
        var inData = false
        var stalled = false

        init(counts: Counts) { self.counts = counts }

        func channelActive(context: ChannelHandlerContext) {
            let channel = context.channel
            counts.open.withLock { $0[ObjectIdentifier(channel)] = channel }
            reply("220 stall.test ESMTP", context: context)
        }

        func channelInactive(context: ChannelHandlerContext) {
            let channel = context.channel
            if counts.open.withLock({ $0.removeValue(forKey: ObjectIdentifier(channel)) != nil }) {
                counts.closedByPeer.add(1, ordering: .relaxed)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            pending += unwrapInboundIn(data).readableBytesView
            while !stalled, let end = pending.firstIndex(of: 10) {
                var bytes = Array(pending[..<end])
                if bytes.last == 13 { bytes.removeLast() }
                let line = String(decoding: bytes, as: UTF8.self)
                pending.removeSubrange(...end)
                handle(line, context: context)
            }
        }

        private func handle(_ line: String, context: ChannelHandlerContext) {
            if inData {
                if line == "." {
                    inData = false
                    stalled = true  // the body is in; the final reply never comes
                    counts.bodiesReceived.add(1, ordering: .relaxed)
                }
                return
            }
            switch line.prefix(4).uppercased() {
            case "EHLO", "HELO": reply("250 stall.test", context: context)
            case "MAIL", "RCPT", "RSET", "NOOP": reply("250 2.0.0 ok", context: context)
            case "DATA":
                inData = true
                reply("354 go ahead", context: context)
            case "QUIT":
                reply("221 bye", context: context)
                context.close(promise: nil)
            default: reply("502 5.5.2 not implemented", context: context)
            }
        }

        private func reply(_ text: String, context: ChannelHandlerContext) {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text + "\r\n")), promise: nil)
        }
    }

    private init(port: Int, channel: any Channel, counts: Counts) {
        self.port = port
        self.channel = channel
        self.counts = counts
    }

    public static func start() async throws -> StallAfterBodySMTPServer {
        let counts = Counts()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(Session(counts: counts))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return StallAfterBodySMTPServer(port: channel.localAddress?.port ?? 0, channel: channel, counts: counts)
    }

    /// Messages received whole (the final reply then withheld).
    public var bodiesReceived: Int { counts.bodiesReceived.load(ordering: .relaxed) }
    /// Connections the client closed.
    public var closedByPeer: Int { counts.closedByPeer.load(ordering: .relaxed) }
    /// Connections still open.
    public var open: Int { counts.open.withLock { $0.count } }

    public func stop() async {
        let children = counts.open.withLock { open in
            defer { open.removeAll() }
            return Array(open.values)
        }
        for child in children { try? await child.close() }
        try? await channel.close()
    }
}
