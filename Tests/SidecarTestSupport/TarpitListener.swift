import NIOCore
import NIOPosix
import Synchronization

/// A TCP listener on a loopback address that accepts connections and never answers (or
/// sends `banner` once and then nothing): a stalled server. It counts the connections it
/// accepted and those whose peer closed them (EOF or reset), so a test can tell from the
/// server's side whether a client connected at all and whether it let go.
public final class TarpitListener: Sendable {
    public let host: String
    public let port: Int
    private let channel: any Channel
    private let counts: Counts

    private final class Counts: Sendable {
        let accepted = Atomic<Int>(0)
        let closedByPeer = Atomic<Int>(0)
        /// Children still open, to close when the listener stops.
        let open = Mutex<[ObjectIdentifier: any Channel]>([:])
    }

    private final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let counts: Counts
        let banner: String?

        init(counts: Counts, banner: String?) {
            self.counts = counts
            self.banner = banner
        }

        func channelActive(context: ChannelHandlerContext) {
            counts.accepted.add(1, ordering: .relaxed)
            let channel = context.channel
            counts.open.withLock { $0[ObjectIdentifier(channel)] = channel }
            if let banner {
                context.writeAndFlush(NIOAny(ByteBuffer(string: banner)), promise: nil)
            }
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {}  // never answers

        func channelInactive(context: ChannelHandlerContext) {
            let channel = context.channel
            let wasOpen = counts.open.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) != nil }
            if wasOpen { counts.closedByPeer.add(1, ordering: .relaxed) }
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)  // a reset: the peer let go
        }
    }

    private init(host: String, port: Int, channel: any Channel, counts: Counts) {
        self.host = host
        self.port = port
        self.channel = channel
        self.counts = counts
    }

    /// Listens on `host` (a loopback address), on `port` (0: any free port).
    public static func start(host: String = "127.0.0.1", port: Int = 0, banner: String? = nil) async throws
        -> TarpitListener
    {
        let counts = Counts()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(Handler(counts: counts, banner: banner))
                }
            }
            .bind(host: host, port: port).get()
        return TarpitListener(host: host, port: channel.localAddress?.port ?? port, channel: channel, counts: counts)
    }

    /// Connections accepted so far.
    public var accepted: Int { counts.accepted.load(ordering: .relaxed) }
    /// Accepted connections the client has closed (EOF or reset).
    public var closedByPeer: Int { counts.closedByPeer.load(ordering: .relaxed) }
    /// Accepted connections still open.
    public var open: Int { counts.open.withLock { $0.count } }

    /// Waits until `condition` holds, checking every 20 ms, for at most `limit`. Returns
    /// whether it held: a generous limit, not a timing assertion.
    public func wait(upTo limit: Duration = .seconds(30), until condition: (TarpitListener) -> Bool) async -> Bool {
        let clock = ContinuousClock()
        let end = clock.now + limit
        while clock.now < end {
            if condition(self) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition(self)
    }

    /// Stops listening and closes every connection still open.
    public func stop() async {
        let children = counts.open.withLock { open in
            defer { open.removeAll() }
            return Array(open.values)
        }
        for child in children { try? await child.close() }
        try? await channel.close()
    }
}
