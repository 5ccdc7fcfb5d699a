import Logging
import NIOCore
import NIOPosix
import NIOSSL
import SidecarCore
import SidecarMessage
import Synchronization

/// One authenticated SMTP session that can send messages one after another.
///
/// ``connect(configuration:eventLoopGroup:logger:deadline:tlsContextCache:)`` opens TCP,
/// does TLS (implicit or STARTTLS), reads the greeting, sends EHLO and authenticates.
/// Then ``send(_:options:deadline:)`` may be called repeatedly, one message at a time,
/// ``reset(deadline:)`` sends RSET (also a liveness check) and ``quit()`` ends it. After
/// anything doubtful (a timeout, a protocol error, a 421, a lost connection, a message
/// that may have been sent) the connection closes and ``isUsable`` turns false for good.
public final class SMTPConnection: Sendable {
    public let configuration: SMTPConfiguration
    /// What the server announced in its last EHLO (after STARTTLS, the one over TLS).
    public let capabilities: SMTPCapabilities
    /// Internal for tests (socket options).
    let channel: any Channel
    private let handler: NIOLoopBound<SMTPClientHandler>
    /// The session's state, which the handler keeps on the event loop.
    private let session: SMTPSessionState
    private let logger: Logger

    private init(
        configuration: SMTPConfiguration,
        capabilities: SMTPCapabilities,
        channel: any Channel,
        handler: NIOLoopBound<SMTPClientHandler>,
        session: SMTPSessionState,
        logger: Logger
    ) {
        self.configuration = configuration
        self.capabilities = capabilities
        self.channel = channel
        self.handler = handler
        self.session = session
        self.logger = logger
    }

    /// Where a streamed message is composed: off the event loops (``BodyTaskExecutor``).
    private var bodyExecutor: BodyTaskExecutor { .shared }

    /// Whether another message may be sent on this connection.
    public var isUsable: Bool { session.withLock { $0.isUsable } }
    /// Whether the session runs over TLS.
    public var isSecure: Bool { session.withLock { $0.isSecure } }
    /// Messages the server accepted on this connection.
    public var messagesSent: Int { session.withLock { $0.messagesSent } }
    /// Transactions started on this connection (MAIL FROM sent), whatever their end.
    public var transactionsStarted: Int { session.withLock { $0.transactionsStarted } }
    /// 4yz/5yz replies the server gave on this session once it was set up. Servers count
    /// them and drop the session at a limit (chasquid: 3; stock Postfix: 20).
    public var errorReplies: Int { session.withLock { $0.errorReplies } }
    /// Whether a transaction on this connection used SMTPUTF8.
    public var usedSMTPUTF8: Bool { session.withLock { $0.usedSMTPUTF8 } }
    /// The first line of the server's greeting, without the code.
    public var greeting: String { session.withLock { $0.greeting } }
    /// The server's address.
    public var remoteAddress: SocketAddress? { channel.remoteAddress }

    // MARK: - Connect

    /// Connects, secures and authenticates. `deadline` bounds the whole of it.
    public static func connect(
        configuration: SMTPConfiguration,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger,
        deadline: NIODeadline? = nil,
        tlsContextCache: TLSContextCache = .shared
    ) async throws(SidecarError) -> SMTPConnection {
        do {
            return try await open(
                configuration: configuration,
                eventLoopGroup: eventLoopGroup,
                logger: logger,
                deadline: deadline,
                tlsContextCache: tlsContextCache
            )
        } catch {
            throw error.error
        }
    }

    /// ``connect(configuration:eventLoopGroup:logger:deadline:tlsContextCache:)``, with the
    /// phase that failed in the error. `onSetupPhase` is told each setup phase (greeting,
    /// TLS, EHLO, AUTH) as the session enters it, on the channel's event loop, so that whoever
    /// gave up waiting for this connection can say how far it got.
    public static func open(
        configuration: SMTPConfiguration,
        eventLoopGroup: any EventLoopGroup,
        logger baseLogger: Logger,
        deadline: NIODeadline? = nil,
        tlsContextCache: TLSContextCache = .shared,
        onSetupPhase: (@Sendable (SMTPPhase) -> Void)? = nil
    ) async throws(SMTPFailure) -> SMTPConnection {
        var logger = baseLogger
        logger[metadataKey: "smtp_host"] = "\(configuration.host)"
        logger[metadataKey: "smtp_port"] = "\(configuration.port)"
        logger[metadataKey: "smtp_security"] = "\(configuration.resolvedSecurity.rawValue)"

        try validate(configuration)
        let security = configuration.resolvedSecurity
        let tlsContext: NIOSSLContext?
        if security == .plaintext {
            tlsContext = nil
        } else {
            do {
                tlsContext = try await tlsContextCache.context(for: configuration.tls)
            } catch {
                throw SMTPFailure(error: error, phase: .tls)
            }
        }

        let attempts = ConnectAttempts()
        let eventLoop = eventLoopGroup.next()
        let serverName = configuration.tlsServerName
        // SNI carries host names only; for an address the certificate must name the address.
        let sniHostname: String? = (try? SocketAddress(ipAddress: serverName, port: 0)) == nil ? serverName : nil
        let stateConfiguration = SMTPClientStateMachine.Configuration(configuration)
        let limits = SMTPReplyDecoder.Limits(
            maximumLineLength: configuration.maximumReplyLineLength,
            maximumLines: configuration.maximumReplyLines
        )
        let handlerLogger = logger
        let host = configuration.host

        let bootstrap = ClientBootstrap(group: eventLoop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(connectTimeout(configuration.timeouts.connect, deadline: deadline))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if security == .implicitTLS, let tlsContext {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: tlsContext, serverHostname: sniHostname)
                        )
                    }
                    let handler = SMTPClientHandler(
                        configuration: stateConfiguration,
                        host: host,
                        tlsContext: tlsContext,
                        tlsServerHostname: sniHostname,
                        replyLimits: limits,
                        deadline: deadline,
                        onSetupPhase: onSetupPhase,
                        logger: handlerLogger
                    )
                    try channel.pipeline.syncOperations.addHandler(handler)
                    // Kept outside the pipeline: a fast failure can tear the pipeline down
                    // before the caller would get to look the handler up.
                    attempts.register(
                        channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop), session: handler.session,
                        connected: handler.connected)
                }
            }

        // A cancelled task (the request abandoned, the daemon stopping) closes its attempt
        // at once instead of waiting out the phase timeouts.
        let opened: Result<SMTPConnection, SMTPFailure> = await withTaskCancellationHandler {
            do throws(SMTPFailure) {
                let channel = try await connectTCP(bootstrap, configuration: configuration, deadline: deadline, logger: logger)
                guard let (handler, session, connected) = attempts.entry(for: channel) else {
                    channel.close(promise: nil)
                    throw SMTPFailure(error: .smtpConnectionLost(phase: .connect), phase: .connect)
                }
                let capabilities: SMTPCapabilities
                do {
                    capabilities = try await connected.get()
                } catch let failure as SMTPFailure {
                    channel.close(promise: nil)
                    throw Task.isCancelled ? SMTPFailure(error: .smtpCancelled(phase: failure.phase), phase: failure.phase) : failure
                } catch {
                    channel.close(promise: nil)
                    throw SMTPFailure(error: .smtpChannelError(error, host: host), phase: .connect)
                }
                return .success(SMTPConnection(
                    configuration: configuration,
                    capabilities: capabilities,
                    channel: channel,
                    handler: handler,
                    session: session,
                    logger: logger
                ))
            } catch {
                return .failure(error)
            }
        } onCancel: {
            attempts.cancel()
        }
        return try opened.get()
    }

    private static func validate(_ configuration: SMTPConfiguration) throws(SMTPFailure) {
        let name = configuration.clientName.utf8
        guard !name.isEmpty, name.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw SMTPFailure(
                error: SidecarError(
                    code: .invalidParams,
                    message: "The client identifier (EHLO name) must be a host name or address literal without spaces.",
                    retryable: false
                ),
                phase: .connect
            )
        }
        guard (1...65535).contains(configuration.port), !configuration.host.isEmpty else {
            throw SMTPFailure(
                error: SidecarError(code: .invalidParams, message: "The SMTP host or port is not valid.", retryable: false),
                phase: .connect
            )
        }
    }

    private static func connectTimeout(_ timeout: Duration, deadline: NIODeadline?) -> TimeAmount {
        let configured = TimeAmount(timeout)
        guard let deadline else { return configured }
        return max(.milliseconds(1), min(configured, deadline - .now()))
    }

    /// The "which address" seam: explicit addresses in order, else NIO resolves the host.
    /// A connect cut short by the request's `deadline` (the connect timeout is capped by
    /// it, and the handler closes the channel when it passes) is the deadline's failure,
    /// not the server's; a cancelled one is the cancellation's.
    private static func connectTCP(
        _ bootstrap: ClientBootstrap,
        configuration: SMTPConfiguration,
        deadline: NIODeadline?,
        logger: Logger
    ) async throws(SMTPFailure) -> any Channel {
        func failure(_ error: any Error) -> SMTPFailure {
            if Task.isCancelled { return SMTPFailure(error: .smtpCancelled(phase: .connect), phase: .connect) }
            if let deadline, deadline <= .now() {
                return SMTPFailure(error: .smtpDeadlineExceeded(phase: .connect), phase: .connect)
            }
            return SMTPFailure(error: .smtpChannelError(error, host: configuration.host), phase: .connect)
        }
        if configuration.addresses.isEmpty {
            do {
                return try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
            } catch {
                throw failure(error)
            }
        }
        var lastError: (any Error)?
        for address in configuration.addresses {
            do {
                return try await bootstrap.connect(to: address).get()
            } catch {
                logger.debug("SMTP connect attempt failed", metadata: ["smtp_address": "\(address)", "error": "\(error)"])
                lastError = error
                if Task.isCancelled || deadline.map({ $0 <= .now() }) == true { break }
            }
        }
        throw failure(lastError ?? ChannelError.connectPending)
    }

    // MARK: - Operations

    /// Sends one message: MAIL FROM, RCPT TO for each recipient, then the message after
    /// DATA or BDAT (see ``SMTPClientStateMachine/sendRequested(_:options:messageInHand:)``
    /// for the flights). A message of known size up to
    /// ``SMTPConfiguration/maximumInlineMessageSize`` is composed first and leaves with the
    /// commands; a larger one is streamed from `message.write(to:)`. Never throws: every
    /// outcome is a result.
    ///
    /// `recipients`: send to these instead of the envelope's (a subset of them, in
    /// envelope order), as when sending again without recipients a server refused.
    ///
    /// `beforeContent`: awaited once the envelope's commands (MAIL, RCPT, and DATA or BDAT)
    /// are on their way and before the first byte of the message's content is written, so
    /// that work which must precede a possible delivery runs while the server reads the
    /// envelope. The message then leaves in a write of its own. If it throws, no byte of
    /// the message is written: the transaction is abandoned, the connection closed, and the
    /// send ends `notSent` (phase `data`) with its error. Not awaited when the transaction
    /// ends before the message could be sent (every recipient refused, a lost connection).
    ///
    /// `gateFirst`: await `beforeContent` before anything of the transaction is written
    /// instead, so that a message in hand leaves with its envelope in one write (one write
    /// and one read fewer, on both sides, than an envelope sent ahead). If it throws,
    /// nothing was written: the send ends `notSent` (phase `mail`) with its error and the
    /// connection stays usable.
    public func send(
        _ message: ComposedMessage,
        recipients: [String]? = nil,
        options: SMTPSendOptions = SMTPSendOptions(),
        deadline: NIODeadline? = nil,
        beforeContent: SMTPContentGate? = nil,
        gateFirst: Bool = false
    ) async -> SMTPSendResult {
        // A cancelled task (the daemon stopping past its shutdown timeout) closes the
        // connection: the transaction ends now, as if the server had dropped it.
        let channel = self.channel
        return await withTaskCancellationHandler {
            await transact(
                message, recipients: recipients, options: options, deadline: deadline, gate: beforeContent,
                gateFirst: gateFirst)
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    private func transact(
        _ message: ComposedMessage,
        recipients: [String]?,
        options: SMTPSendOptions,
        deadline: NIODeadline?,
        gate: SMTPContentGate?,
        gateFirst: Bool
    ) async -> SMTPSendResult {
        guard session.withLock({ $0.claim() }) else {
            return .notSent(SMTPSendFailure(error: .smtpConnectionBusy(), phase: .mail))
        }
        defer { session.withLock { $0.releaseClaim() } }
        var request = SMTPTransactionRequest(
            reversePath: message.envelope.reversePath,
            recipients: recipients ?? message.envelope.recipients,
            size: message.byteCount,
            requiresSMTPUTF8: message.requiresSMTPUTF8,
            requires8BitMIME: message.requires8BitMIME,
            dsn: options.dsn
        )
        var inHand: ByteBuffer?
        if let size = message.byteCount, size <= configuration.maximumInlineMessageSize {
            var sink = ByteBufferMessageSink(allocator: channel.allocator, capacity: size)
            do {
                try await message.write(to: &sink)
            } catch {
                // Nothing went out: the connection stays as it was.
                let bodyError = error as? SidecarError ?? SidecarError.smtpChannelError(error, host: configuration.host)
                return .notSent(SMTPSendFailure(error: bodyError, phase: .data))
            }
            request.size = sink.buffer.readableBytes
            inHand = sink.buffer
        }
        var gate = gate
        if gateFirst, let first = gate {
            do throws(SidecarError) {
                try await first()
            } catch {
                // Nothing of the transaction was written: the connection stays as it was.
                return .notSent(SMTPSendFailure(error: error, phase: .mail))
            }
            gate = nil
        }
        // With a gate the message is held back: the envelope leaves alone and the state
        // machine asks for the content as it does for a streamed message.
        let start = await run { [held = gate == nil ? inHand : nil, request] handler, promise in
            handler.startTransaction(request, options: options, message: held, deadline: deadline, promise: promise)
        }
        guard case .streamBody(let transfer) = start else { return start.result }
        if let gate {
            do throws(SidecarError) {
                try await gate()
            } catch {
                return await run { handler, promise in handler.abortBody(error, promise: promise) }.result
            }
        }
        if var content = inHand {
            // Framed as the streaming writer frames it; one write, then the end of the data.
            if transfer == .data {
                var framed = channel.allocator.buffer(capacity: 0)
                DotStuffer.stuffWhole(content, into: &framed)
                content = framed
            }
            let written = channel.eventLoop.makePromise(of: Void.self)
            return await run { [content] handler, promise in
                // A refused write (the transaction already ended) leaves its result to finishBody.
                handler.writeBody(content, promise: written)
                handler.finishBody(promise: promise)
            }.result
        }

        // Composed on the body executor, not on this event loop: the loop only writes each
        // chunk, so its other channels are served between chunks (``BodyTaskExecutor``).
        let bodyError: SidecarError? = await withTaskExecutorPreference(bodyExecutor) {
            [handler, allocator = channel.allocator, host = configuration.host] () async -> SidecarError? in
            var writer = SMTPBodyWriter(handler: handler, allocator: allocator, dotStuffing: transfer == .data)
            do {
                try await message.write(to: &writer)
                try await writer.finish()
                return nil
            } catch let error as SidecarError {
                return error
            } catch {
                // The handler refused the write or the channel failed: the transaction has
                // already ended and the handler holds its result.
                return SidecarError.smtpChannelError(error, host: host)
            }
        }
        if let bodyError {
            return await run { handler, promise in handler.abortBody(bodyError, promise: promise) }.result
        }
        return await run { handler, promise in handler.finishBody(promise: promise) }.result
    }

    /// RSET: ends any transaction; also a cheap check that the server still answers.
    public func reset(deadline: NIODeadline? = nil) async throws(SidecarError) {
        guard session.withLock({ $0.claim() }) else { throw .smtpConnectionBusy() }
        defer { session.withLock { $0.releaseClaim() } }
        let promise = channel.eventLoop.makePromise(of: Void.self)
        let handler = self.handler
        channel.eventLoop.execute { handler.value.reset(deadline: deadline, promise: promise) }
        do {
            try await promise.futureResult.get()
        } catch let failure as SMTPFailure {
            throw failure.error
        } catch {
            throw .smtpChannelError(error, host: configuration.host)
        }
    }

    /// QUIT and close. Never fails; safe to call more than once and on a closed connection.
    /// A cancelled task closes without waiting for the server's reply.
    public func quit() async {
        let promise = channel.eventLoop.makePromise(of: Void.self)
        let handler = self.handler
        let channel = self.channel
        channel.eventLoop.execute { handler.value.quit(channel: channel, promise: promise) }
        await withTaskCancellationHandler {
            try? await promise.futureResult.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    private func run(
        _ body: @escaping @Sendable (SMTPClientHandler, EventLoopPromise<SMTPClientHandler.TransactionProgress>) -> Void
    ) async -> SMTPClientHandler.TransactionProgress {
        let promise = channel.eventLoop.makePromise(of: SMTPClientHandler.TransactionProgress.self)
        let handler = self.handler
        if channel.eventLoop.inEventLoop {
            // Swift concurrency runs on the event loops (see SMTPSidecarCommand.main), so
            // the send usually already is on its channel's loop: no task through the queue.
            body(handler.value, promise)
        } else {
            channel.eventLoop.execute { body(handler.value, promise) }
        }
        do {
            return try await promise.futureResult.get()
        } catch {
            return .finished(.notSent(SMTPSendFailure(error: .smtpChannelError(error, host: configuration.host), phase: .data)))
        }
    }
}

/// The handler of each channel the bootstrap made (happy eyeballs may make several), and
/// the channels, so that cancelling the attempt closes them.
private final class ConnectAttempts: Sendable {
    typealias Entry = (NIOLoopBound<SMTPClientHandler>, SMTPSessionState, EventLoopFuture<SMTPCapabilities>)
    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        var channels: [any Channel] = []
        var cancelled = false
    }
    private let state = Mutex(State())

    func register(
        _ channel: any Channel,
        handler: NIOLoopBound<SMTPClientHandler>,
        session: SMTPSessionState,
        connected: EventLoopFuture<SMTPCapabilities>
    ) {
        let cancelled = state.withLock { state in
            state.entries[ObjectIdentifier(channel)] = (handler, session, connected)
            state.channels.append(channel)
            return state.cancelled
        }
        if cancelled { channel.close(promise: nil) }
    }

    func entry(for channel: any Channel) -> Entry? {
        state.withLock { $0.entries[ObjectIdentifier(channel)] }
    }

    /// Closes every channel of the attempt, and any made after this call.
    func cancel() {
        let channels = state.withLock { state in
            state.cancelled = true
            return state.channels
        }
        for channel in channels { channel.close(promise: nil) }
    }
}

extension SMTPClientHandler.TransactionProgress {
    fileprivate var result: SMTPSendResult {
        switch self {
        case .finished(let result): result
        case .streamBody:
            .notSent(SMTPSendFailure(error: .smtpProtocolError("the transaction restarted unexpectedly"), phase: .data))
        }
    }
}
