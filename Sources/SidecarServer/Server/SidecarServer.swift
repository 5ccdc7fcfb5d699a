#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import NIOCore
import NIOPosix
import SidecarCore
import SidecarProtocol
import ServiceLifecycle
import Synchronization

/// The daemon's protocol server: a `Service` that listens on a Unix socket (inherited from
/// systemd or bound itself), admits clients, and serves each connection on its own.
///
/// On graceful shutdown it stops accepting at once, lets every connection answer what is
/// in flight (new frames are answered `shutting_down`), then returns.
public final class SidecarServer: Service {
    public struct Settings: Sendable {
        public var listener: ListenerSource
        public var peerPolicy: PeerPolicy
        public var maxConnections: Int
        public var maxInFlightPerConnection: Int
        public var maxFrameBytes: Int
        public var idleTimeout: Duration
        /// Where a request of at least ``largeRequestBytes`` is decoded and handled, off the
        /// event loops: parsing a 10 MB frame and validating its base64 on a loop is tens of
        /// milliseconds in which no other client is served. nil: on the connection's loop.
        public var largeRequestExecutor: (any TaskExecutor)?
        /// Default 256 KiB.
        public var largeRequestBytes: Int

        public init(
            listener: ListenerSource, peerPolicy: PeerPolicy = PeerPolicy(),
            maxConnections: Int = Configuration().maxConnections,
            maxInFlightPerConnection: Int = Configuration().maxInFlightPerConnection,
            maxFrameBytes: Int = Configuration().maxFrameBytes,
            idleTimeout: Duration = .seconds(Configuration().idleTimeoutSeconds),
            largeRequestExecutor: (any TaskExecutor)? = nil, largeRequestBytes: Int = 256 * 1024
        ) {
            self.listener = listener
            self.peerPolicy = peerPolicy
            self.maxConnections = maxConnections
            self.maxInFlightPerConnection = maxInFlightPerConnection
            self.maxFrameBytes = maxFrameBytes
            self.idleTimeout = idleTimeout
            self.largeRequestExecutor = largeRequestExecutor
            self.largeRequestBytes = largeRequestBytes
        }

        public init(
            configuration: Configuration, listener: ListenerSource, peerPolicy: PeerPolicy,
            largeRequestExecutor: (any TaskExecutor)? = nil
        ) {
            self.init(
                listener: listener, peerPolicy: peerPolicy, maxConnections: configuration.maxConnections,
                maxInFlightPerConnection: configuration.maxInFlightPerConnection,
                maxFrameBytes: configuration.maxFrameBytes, idleTimeout: .seconds(configuration.idleTimeoutSeconds),
                largeRequestExecutor: largeRequestExecutor)
        }
    }

    struct Accepted: Sendable {
        var channel: ClientConnection.Channel
        var peer: PeerCredentials?
    }

    struct Registry {
        var admission: AdmissionStateMachine
        var connections: [Int: ClientConnection] = [:]
        var nextID = 1
        var listener: (any Channel)?
    }

    public let settings: Settings
    public let stats: ServerStats
    let handler: any RequestHandler
    let notifier: any LifecycleNotifier
    let group: any EventLoopGroup
    let logger: Logger
    private let registry: Mutex<Registry>
    private let boundPath = Mutex<String?>(nil)

    public init(
        settings: Settings, handler: any RequestHandler, stats: ServerStats,
        notifier: any LifecycleNotifier = SilentNotifier(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger
    ) {
        self.settings = settings
        self.handler = handler
        self.stats = stats
        self.notifier = notifier
        self.group = group
        self.logger = logger
        self.registry = Mutex(Registry(admission: AdmissionStateMachine(maxConnections: settings.maxConnections)))
    }

    public func run() async throws {
        let serverChannel = try await bind()
        registry.withLock { $0.listener = serverChannel.channel }
        logger.info("Listening", metadata: ["socket": "\(describe(settings.listener))"])
        notifier.ready()
        notifier.status(stats.statusLine())

        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                do {
                    try await serverChannel.executeThenClose { inbound in
                        for try await accepted in inbound {
                            let executor = EventLoopTaskExecutor(eventLoop: accepted.channel.channel.eventLoop)
                            group.addTask(executorPreference: executor) { await self.serve(accepted) }
                        }
                    }
                } catch {
                    self.logger.error("The listening socket failed", metadata: ["error": "\(error)"])
                }
            }
        } onGracefulShutdown: {
            self.beginShutdown()
        }
        removeBoundSocketFile()
        logger.info("Server stopped")
    }

    /// Whether a graceful shutdown was asked for: an error after that is part of the stop,
    /// one before it is a failure.
    public var isShuttingDown: Bool {
        registry.withLock { $0.admission.isShuttingDown }
    }

    /// Stops accepting and asks every connection to drain.
    func beginShutdown() {
        notifier.stopping()
        let (listener, draining) = registry.withLock { registry -> ((any Channel)?, [ClientConnection]) in
            let ids = registry.admission.shutdownRequested()
            return (registry.listener, ids.compactMap { registry.connections[$0] })
        }
        logger.info("Shutting down: no new connections; answering requests in flight", metadata: [
            "connections": "\(draining.count)", "requests_in_flight": "\(stats.inFlight)",
        ])
        listener?.close(promise: nil)
        for connection in draining {
            connection.shutdown()
        }
    }

    private func serve(_ accepted: Accepted) async {
        let (id, admission) = registry.withLock { registry in
            let id = registry.nextID
            registry.nextID += 1
            return (id, registry.admission.connectionAccepted(id))
        }
        var connectionLogger = logger
        connectionLogger[metadataKey: "connection_id"] = "\(id)"
        if let peer = accepted.peer {
            connectionLogger[metadataKey: "peer_pid"] = "\(peer.pid)"
            connectionLogger[metadataKey: "peer_uid"] = "\(peer.uid)"
            connectionLogger[metadataKey: "peer_gid"] = "\(peer.gid)"
        }
        stats.connectionAccepted()
        defer { stats.connectionClosed() }

        let refusal: SidecarError?
        if !settings.peerPolicy.allows(accepted.peer) {
            connectionLogger.warning("Refused a client whose uid/gid is not allowed")
            refusal = SidecarError(
                code: .peerNotAllowed,
                message: "This process's user and group are not allowed to use the sidecar (see allowed_uids/allowed_gids).")
        } else {
            switch admission {
            case .serve:
                refusal = nil
            case .refuseTooManyConnections:
                connectionLogger.warning(
                    "Refused a client: too many connections", metadata: ["max_connections": "\(settings.maxConnections)"])
                refusal = SidecarError(
                    code: .tooManyConnections,
                    message: "The sidecar has \(settings.maxConnections) client connections open, its limit. Retry shortly.",
                    retryable: true)
            case .refuseShuttingDown:
                refusal = SidecarError(
                    code: .shuttingDown, message: "The sidecar is shutting down. Retry shortly.", retryable: true)
            }
        }
        if let refusal {
            stats.connectionRefused()
            registry.withLock { $0.admission.connectionClosed(id) }
            await refuse(accepted.channel, with: refusal)
            return
        }

        let connection = ClientConnection(
            id: id, channel: accepted.channel, peer: accepted.peer, maxInFlight: settings.maxInFlightPerConnection,
            idleTimeout: settings.idleTimeout, handler: handler, stats: stats, logger: connectionLogger,
            largeRequests: settings.largeRequestExecutor.map { ($0, settings.largeRequestBytes) })
        let shuttingDown = registry.withLock { registry in
            registry.connections[id] = connection
            return registry.admission.isShuttingDown
        }
        if shuttingDown { connection.shutdown() }
        connectionLogger.debug("Client connected")
        await connection.run()
        registry.withLock {
            $0.connections[id] = nil
            $0.admission.connectionClosed(id)
        }
        connectionLogger.debug("Client disconnected")
    }

    private func refuse(_ channel: ClientConnection.Channel, with error: SidecarError) async {
        stats.answered(operation: "connect", result: error.code.rawValue)
        do {
            try await channel.executeThenClose { _, _ in
                try await channel.channel.writeAndFlush(Response.failure(id: nil, error).frame())
            }
        } catch {
            logger.debug("Could not tell a refused client why", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Binding

    private func bind() async throws -> NIOAsyncChannel<Accepted, Never> {
        let maxFrame = UInt32(clamping: settings.maxFrameBytes)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<Accepted> = { channel in
            Self.peerCredentials(of: channel).flatMapThrowing { peer in
                // Responses are written as whole frames (`Response.frame`): no frame encoder.
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maxPayloadLength: maxFrame)))
                let asyncChannel = try NIOAsyncChannel<InboundFrame, Never>(
                    wrappingChannelSynchronously: channel,
                    configuration: .init(backPressureStrategy: .init(lowWatermark: 1, highWatermark: 4)))
                return Accepted(channel: asyncChannel, peer: peer)
            }
        }
        switch settings.listener {
        case .inherited(let fd, let name):
            do {
                return try await bootstrap.bind(fd, childChannelInitializer: initializer)
            } catch {
                throw SidecarError(
                    code: .invalidConfiguration,
                    message: "Cannot serve the socket systemd passed (fd \(fd), \(name)): \(Self.reason(error)).")
            }
        case .path(let path, let mode, let group):
            try UnixSocketFile.prepare(path: path)
            let channel: NIOAsyncChannel<Accepted, Never>
            do {
                channel = try await bootstrap.bind(
                    unixDomainSocketPath: path, cleanupExistingSocketFile: false, childChannelInitializer: initializer)
            } catch {
                throw SidecarError(code: .invalidConfiguration, message: "Cannot listen on \(path): \(Self.reason(error)).")
            }
            boundPath.withLock { $0 = path }
            try UnixSocketFile.setPermissions(path: path, mode: mode, group: group)
            return channel
        }
    }

    /// Why binding failed, in words an operator can act on (not NIO's description).
    static func reason(_ error: any Error) -> String {
        switch error {
        case let error as IOError:
            String(cString: strerror(error.errnoCode))
        case SocketAddressError.unixDomainSocketPathTooLong:
            "the path is longer than a Unix socket address holds (107 bytes)"
        default:
            "\(type(of: error))"
        }
    }

    private func removeBoundSocketFile() {
        if let path = boundPath.withLock({ $0 }) {
            UnixSocketFile.remove(path: path)
        }
    }

    /// SO_PEERCRED of an accepted Unix socket; nil (and refused unless everyone is
    /// allowed) if the kernel does not say.
    static func peerCredentials(of channel: any Channel) -> EventLoopFuture<PeerCredentials?> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeSucceededFuture(nil)
        }
        let future: EventLoopFuture<KernelPeerCredentials> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return future.map { Optional(PeerCredentials(pid: $0.pid, uid: $0.uid, gid: $0.gid)) }
            .recover { _ in nil }
    }

    /// The layout of Linux's `struct ucred` (pid_t, uid_t, gid_t), which Glibc's Swift
    /// module hides behind `_GNU_SOURCE`.
    struct KernelPeerCredentials: Sendable {
        var pid: Int32
        var uid: UInt32
        var gid: UInt32
    }

    private func describe(_ listener: ListenerSource) -> String {
        switch listener {
        case .inherited(let fd, let name): "inherited fd \(fd) (\(name))"
        case .path(let path, _, _): path
        }
    }
}
