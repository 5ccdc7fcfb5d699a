import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// `metrics_listen`: a plain HTTP listener that answers `GET /metrics` with the Prometheus
/// text, for a scraper that cannot speak the Unix socket protocol. Off unless configured;
/// it serves nothing else (404) and reads no request body. The text is the `metrics`
/// operation's: it names no workspace, credential, host or address, but it tells how busy
/// the daemon is, so bind it to loopback or a private interface.
public final class MetricsHTTPListener: Service, Sendable {
    let host: String
    let port: Int
    let render: @Sendable () -> String
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger

    public init(
        host: String, port: Int, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger, render: @escaping @Sendable () -> String
    ) {
        self.host = host
        self.port = port
        self.render = render
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    public func run() async throws {
        let render = render
        let channel = try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(render: render))
                }
            }
            .bind(host: host, port: port).get()
        logger.info("Serving metrics over HTTP", metadata: [
            "metrics_listen": "\(channel.localAddress.map { "\($0)" } ?? "\(host):\(port)")",
        ])
        try await withGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
    }
}

/// One HTTP connection: each request answered once its end arrives, then the connection closed.
final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let render: @Sendable () -> String
    private var head: HTTPRequestHead?

    init(render: @escaping @Sendable () -> String) {
        self.render = render
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head else { return }
            self.head = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let status: HTTPResponseStatus
        let body: String
        var headers = HTTPHeaders()
        switch (head.method, path) {
        case (.GET, "/metrics"), (.HEAD, "/metrics"):
            (status, body) = (.ok, render())
            headers.add(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
        case (.GET, _), (.HEAD, _):
            (status, body) = (.notFound, "Not found: the metrics are at /metrics.\n")
            headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        default:
            (status, body) = (.methodNotAllowed, "Only GET and HEAD.\n")
            headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
            headers.add(name: "Allow", value: "GET, HEAD")
        }
        var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
        buffer.writeString(body)
        headers.add(name: "Content-Length", value: "\(buffer.readableBytes)")
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            bound.value.close(promise: nil)
        }
    }
}
