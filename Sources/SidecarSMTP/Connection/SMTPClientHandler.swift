#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOSSL
import NIOTLS
import SidecarCore

/// The thin shell around ``SMTPClientStateMachine``: it decodes replies, feeds events to
/// the state machine on the event loop and carries out the actions (writes, TLS, timers,
/// closing), and completes the promises the actions hand back. The state machine is the
/// session's one state (``SMTPSessionState``); the shell keeps only I/O: the receive
/// buffer, the decoder, the timers' scheduled tasks.
///
/// It decodes replies itself rather than behind a `ByteToMessageHandler` so that, when
/// the 220 to STARTTLS arrives, it can see whether any byte follows it in the receive
/// buffer (RFC 3207 §6) before it puts the TLS handler in front of itself.
final class SMTPClientHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    typealias TransactionProgress = SMTPClientStateMachine.TransactionProgress

    /// Thrown into the body writer when the message can no longer be written (the
    /// transaction ended early); the result is collected by ``abortBody(_:promise:)``.
    struct BodyWriteRefused: Error {}

    /// The session's state, shared with ``SMTPConnection``.
    let session: SMTPSessionState
    private var decoder: SMTPReplyDecoder
    private let encoder = SMTPCommandEncoder()
    private var inbound: ByteBuffer?
    private var context: ChannelHandlerContext?
    private var logger: Logger
    private let host: String
    private let tlsContext: NIOSSLContext?
    private let tlsServerHostname: String?
    /// The phase timer, kept lazily: `armed` says which timer runs out when, and one
    /// scheduled task, due no later than that, checks it when it runs and reschedules for
    /// what is left. Re-arming for a later time (every reply does) schedules nothing, and
    /// the end of a transaction only clears `armed`; scheduling and cancelling a task per
    /// reply was about 2% of a warm send's CPU.
    private var armed: (timer: SMTPTimer, due: NIODeadline)?
    private var timerTask: (scheduled: Scheduled<Void>, due: NIODeadline)?
    /// Whether reads and writes ask for quick ACKs (see ``requestQuickAcknowledgement(_:)``).
    /// Off while a small one-flight transaction is out, until a read leaves it unfinished.
    private var quickAcknowledgements = true
    private var deadlineTimer: Scheduled<Void>?
    private var initialDeadline: NIODeadline?
    private var connectFuture: EventLoopFuture<SMTPCapabilities>?
    /// Told each setup phase (greeting, TLS, EHLO, AUTH) as the session enters it, until
    /// the session is ready; then dropped.
    private var onSetupPhase: (@Sendable (SMTPPhase) -> Void)?
    private var reportedSetupPhase = SMTPPhase.connect

    init(
        configuration: SMTPClientStateMachine.Configuration,
        host: String,
        tlsContext: NIOSSLContext?,
        tlsServerHostname: String?,
        replyLimits: SMTPReplyDecoder.Limits = .default,
        deadline: NIODeadline?,
        onSetupPhase: (@Sendable (SMTPPhase) -> Void)? = nil,
        logger: Logger
    ) {
        self.session = SMTPSessionState(configuration: configuration)
        self.decoder = SMTPReplyDecoder(limits: replyLimits)
        self.host = host
        self.tlsContext = tlsContext
        self.tlsServerHostname = tlsServerHostname
        self.initialDeadline = deadline
        self.onSetupPhase = onSetupPhase
        self.logger = logger
    }

    /// Completes when the session is ready (greeting, TLS, EHLO, AUTH done), or fails
    /// with an ``SMTPFailure``. Valid once the handler is in a pipeline.
    var connected: EventLoopFuture<SMTPCapabilities> {
        connectFuture!
    }

    var capabilities: SMTPCapabilities? { session.withLock { $0.capabilities } }

    private var phase: SMTPPhase { session.withLock { $0.phase } }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let promise = context.eventLoop.makePromise(of: SMTPCapabilities.self)
        connectFuture = promise.futureResult
        let active = context.channel.isActive
        armDeadline(initialDeadline, context: context)
        let outcome = session.withLock { machine in
            machine.connectRequested(promise)
            return active ? machine.settle(machine.channelActive()) : nil
        }
        if let outcome { apply(outcome, context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
        abandonOperation(handlerRemoved: true)
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        logger.debug("SMTP connected", metadata: ["smtp_remote_address": "\(context.remoteAddress.map { "\($0)" } ?? "?")"])
        handle(context: context) { $0.channelActive() }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        handle(context: context) { $0.connectionClosed() }
        cancelTimers()
        abandonOperation(handlerRemoved: false)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        requestQuickAcknowledgement(context)
        var incoming = unwrapInboundIn(data)
        if inbound == nil {
            inbound = incoming
        } else {
            inbound!.writeBuffer(&incoming)
        }
        decodeReplies(context: context)
        if !quickAcknowledgements {
            // A small flight's replies came in more than one write: the rest may wait on
            // our ACK of this part (the server's Nagle), so ask for it now, and for quick
            // ACKs until the transaction ends.
            quickAcknowledgements = true
            requestQuickAcknowledgement(context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted(let protocolName) = event {
            logger.debug("SMTP TLS established", metadata: ["smtp_tls_alpn": "\(protocolName ?? "none")"])
            handle(context: context) { $0.tlsHandshakeCompleted() }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? NIOSSLError, case .uncleanShutdown = error {
            // The server closed TCP without TLS close_notify: just a closed connection.
            handle(context: context) { $0.connectionClosed() }
            return
        }
        let mapped = SidecarError.smtpChannelError(error, host: host)
        logger.debug(
            "SMTP channel error",
            metadata: ["smtp_phase": "\(phase)", "error_code": "\(mapped.code)", "error": "\(mapped.message)"]
        )
        handle(context: context) { $0.failed(mapped) }
    }

    private func decodeReplies(context: ChannelHandlerContext) {
        guard var buffer = inbound else { return }
        inbound = nil
        let logsReplies = logger.logLevel <= .debug
        while true {
            let reply: SMTPResponse?
            do {
                reply = try decoder.decode(buffer: &buffer)
            } catch {
                if case .closed = session.withLock({ $0.state }) { return }
                logger.debug("SMTP malformed reply", metadata: ["smtp_phase": "\(phase)", "error": "\(error)"])
                handle(context: context) { $0.failed(.smtpChannelError(error, host: host)) }
                return
            }
            guard let reply else {
                if case .closed = session.withLock({ $0.state }) { return }
                break
            }
            // One turn of the lock: whether the session is still open, what may be logged
            // of the reply (in the phase it answers), and the state machine's answer.
            let stillDue = buffer.readableBytes > 0 || decoder.hasPartialReply
            let step: (loggable: SMTPResponse?, phase: SMTPPhase, outcome: SMTPClientStateMachine.Outcome, injected: Bool)? =
                session.withLock { machine in
                    if case .closed = machine.state { return nil }
                    let loggable = logsReplies ? machine.loggable(reply) : nil
                    let phase = machine.phase
                    var action = machine.replyReceived(reply)
                    var injected = false
                    if case .startTLS = action, stillDue {
                        injected = true
                        action = machine.plaintextReceivedBeforeTLS()
                    }
                    return (loggable, phase, machine.settle(action), injected)
                }
            guard let step else { return }
            if let loggable = step.loggable {
                logger.debug(
                    "SMTP reply",
                    metadata: [
                        "smtp_phase": "\(step.phase)",
                        "smtp_reply_code": "\(reply.code)",
                        "smtp_enhanced_code": "\(reply.enhancedCode ?? "")",
                        "smtp_reply_text": "\(loggable.lines.joined(separator: "\\n"))",
                    ]
                )
            }
            if step.injected {
                logger.warning(
                    "SMTP server sent data after agreeing to STARTTLS; refusing to continue",
                    metadata: ["smtp_phase": "tls", "smtp_unexpected_bytes": "\(buffer.readableBytes)"]
                )
            }
            apply(step.outcome, context: context)
        }
        if buffer.readableBytes > 0 {
            buffer.discardReadBytes()
            inbound = buffer
        }
    }

    // MARK: - Operations (called on the event loop)

    /// Starts a message's transaction. `message`: the whole message, when the caller has it
    /// in hand (`request.size` is its exact size); it then goes out with the command it
    /// follows. Otherwise the promise may ask for it to be streamed.
    func startTransaction(
        _ request: SMTPTransactionRequest,
        options: SMTPSendOptions,
        message: ByteBuffer?,
        deadline: NIODeadline?,
        promise: EventLoopPromise<TransactionProgress>
    ) {
        let attached = context != nil
        let (started, outcome) = session.withLock {
            $0.transactionRequested(request, options: options, message: message, attached: attached, promise: promise)
        }
        if started, let context { armDeadline(deadline, context: context) }
        apply(outcome, context: context)
    }

    /// Writes one chunk of the message, already framed (dot-stuffed for DATA); the promise
    /// completes when it is on its way to the socket, which is what paces the writer
    /// (backpressure). With BDAT the chunk that completes the announced size tells the
    /// state machine at once, since BDAT's reply may arrive before the writer finishes.
    func writeBody(_ buffer: ByteBuffer, promise: EventLoopPromise<Void>) {
        let attached = context != nil
        let decision = session.withLock { $0.bodyChunkOffered(bytes: buffer.readableBytes, attached: attached) }
        switch decision {
        case .refuse(let then):
            promise.fail(BodyWriteRefused())
            if let then { apply(then, context: context) }
        case .write(let timer, let then):
            guard let context else {
                promise.fail(BodyWriteRefused())
                return
            }
            arm(timer, context: context)
            write(buffer, context: context, promise: promise)
            if let then { apply(then, context: context) }
        }
    }

    /// The whole message is out: with DATA send the final dot; either way wait for the reply.
    func finishBody(promise: EventLoopPromise<TransactionProgress>) {
        apply(session.withLock { $0.bodyEnded(promise) }, context: context)
    }

    /// The message could not be produced or written: close without completing it.
    func abortBody(_ error: SidecarError, promise: EventLoopPromise<TransactionProgress>) {
        apply(session.withLock { $0.bodyAbandoned(error, promise: promise) }, context: context)
    }

    func reset(deadline: NIODeadline?, promise: EventLoopPromise<Void>) {
        let attached = context != nil
        let (started, outcome) = session.withLock { $0.resetOperationRequested(attached: attached, promise: promise) }
        if started, let context { armDeadline(deadline, context: context) }
        apply(outcome, context: context)
    }

    /// QUIT and close; the promise completes when the channel is closed. From an
    /// operation in flight, that operation ends as if the connection was lost.
    func quit(channel: any Channel, promise: EventLoopPromise<Void>) {
        channel.closeFuture.whenComplete { _ in promise.succeed(()) }
        guard let context else { return }
        handle(context: context) { $0.quitRequested() }
    }

    // MARK: - Actions

    /// Applies an event to the state machine under the lock, then carries out what it
    /// returns outside it.
    private func handle(
        context: ChannelHandlerContext?,
        _ event: (inout SMTPClientStateMachine) -> SMTPClientStateMachine.Action
    ) {
        let outcome = session.withLock { machine in machine.settle(event(&machine)) }
        apply(outcome, context: context)
    }

    private func apply(_ outcome: SMTPClientStateMachine.Outcome, context: ChannelHandlerContext?) {
        if let onSetupPhase {
            // Only while the session is being set up: no extra lock once it is ready.
            let (phase, isUsable) = session.withLock { ($0.phase, $0.isUsable) }
            reportSetupPhase(phase, isUsable: isUsable, to: onSetupPhase)
        }
        let action = outcome.action
        guard let context else {
            // The channel is gone: nothing can be written, but an answer still reaches
            // whoever waits for it.
            switch action {
            case .complete(let completion), .close(let completion?, _):
                complete(completion, outcome)
            case .none, .send, .armTimer, .startTLS, .sendMessage, .streamBody, .writeBodyChunk, .close(nil, _):
                if let answer = outcome.answer { deliver(answer) }
            }
            return
        }
        switch action {
        case .none:
            if let answer = outcome.answer { deliver(answer) }
        case .send(let commands, let timer):
            logCommands(commands, phase: timer.phase)
            write(encoder.encode(commands, allocator: context.channel.allocator), context: context)
            arm(timer, context: context)
        case .armTimer(let timer):
            arm(timer, context: context)
        case .startTLS(let timer):
            arm(timer, context: context)
            do {
                guard let tlsContext else {
                    throw SidecarError.smtpTLSFailed("no TLS settings for this connection")
                }
                let handler = try NIOSSLClientHandler(context: tlsContext, serverHostname: tlsServerHostname)
                try context.pipeline.syncOperations.addHandler(handler, position: .first)
            } catch {
                handle(context: context) { $0.failed(.smtpChannelError(error, host: host)) }
            }
        case .sendMessage(let commands, let transfer, let timer):
            logCommands(commands, phase: timer.phase)
            var buffer = encoder.encode(commands, allocator: context.channel.allocator)
            guard var message = outcome.message else {
                handle(context: context) { $0.failed(.smtpProtocolError("no message in hand for the transaction")) }
                return
            }
            // A server that reads a small flight in one go answers it in one write: then no
            // reply waits on our ACK of an earlier one, and the send needs no setsockopt
            // (two system calls per send otherwise). When the replies do come split,
            // channelRead turns quick ACKs back on. A larger flight keeps them throughout.
            quickAcknowledgements = buffer.readableBytes + message.readableBytes > Self.smallFlightBytes
            switch transfer {
            case .bdat:
                buffer.writeBuffer(&message)
            case .data:
                DotStuffer.stuffWhole(message, into: &buffer)
                encoder.encode(data: .endOfData, out: &buffer)
            }
            write(buffer, context: context)
            arm(timer, context: context)
        case .streamBody(let commands, _, let timer):
            if !commands.isEmpty {
                logCommands(commands, phase: timer.phase)
                write(encoder.encode(commands, allocator: context.channel.allocator), context: context)
            }
            arm(timer, context: context)
            if let answer = outcome.answer { deliver(answer) }
        case .writeBodyChunk(let timer):
            arm(timer, context: context)
        case .complete(let completion):
            quickAcknowledgements = true
            finishTransactionTimers()
            complete(completion, outcome)
        case .close(let completion, let sendQuit):
            quickAcknowledgements = true
            cancelTimers()
            if let completion { complete(completion, outcome) }
            if sendQuit && context.channel.isActive {
                logger.debug("SMTP command", metadata: ["smtp_phase": "quit", "smtp_command": "QUIT"])
                write(encoder.encode([.quit], allocator: context.channel.allocator), context: context)
            }
            if sendQuit || completion == .quit {
                context.close(promise: nil)
            } else {
                closeAbruptly(context: context)
            }
        }
    }

    /// Closes a connection given up on (a deadline or timer passed, the server broke the
    /// protocol or went away) under the TLS handler: no close_notify. A graceful TLS close
    /// waits for the server's close_notify, and when the server has stopped reading (a
    /// stall mid-body) the socket, and the message writes queued on it, would stay open for
    /// NIOSSL's whole shutdown timeout (5 s), holding up the answer past the request's
    /// deadline. Without TLS in the pipeline it is an ordinary close.
    private func closeAbruptly(context: ChannelHandlerContext) {
        if let tls = try? context.pipeline.syncOperations.context(handlerType: NIOSSLClientHandler.self) {
            tls.close(promise: nil)
        } else {
            context.close(promise: nil)
        }
    }

    /// Logs how the operation ended and answers whoever waits for it.
    private func complete(_ completion: SMTPClientStateMachine.Completion, _ outcome: SMTPClientStateMachine.Outcome) {
        if outcome.unanswered {
            // Nothing waits for it (the operation already ended). Not expected.
            logger.debug("SMTP completion without a waiting operation", metadata: ["smtp_phase": "\(phase)"])
            return
        }
        switch completion {
        case .connected:
            logger.debug(
                "SMTP session ready",
                metadata: [
                    "smtp_tls": "\(session.withLock { $0.isSecure })",
                    "smtp_auth": "\(session.withLock { $0.configuration.credentials != nil })",
                ]
            )
        case .connectFailed(let failure):
            log(failure.error, phase: failure.phase)
        case .transaction(let result):
            log(result)
        case .reset(let failure?):
            log(failure.error, phase: failure.phase)
        case .reset(nil), .quit:
            break
        }
        if let answer = outcome.answer { deliver(answer) }
    }

    private func deliver(_ answer: SMTPClientStateMachine.Answer) {
        switch answer {
        case .connect(let promise, let result):
            promise.completeWith(result.mapError { $0 as any Error })
        case .transaction(let promise, let progress):
            promise.succeed(progress)
        case .reset(let promise, let result):
            promise.completeWith(result.mapError { $0 as any Error })
        }
    }

    /// After the channel closed or the handler left the pipeline: whatever still waits gets
    /// a lost-connection failure.
    private func abandonOperation(handlerRemoved: Bool) {
        let (answer, bodyCut) = session.withLock { machine in
            let streaming: Bool
            switch machine.operation {
            case .body, .bodyWritten: streaming = true
            case .none, .connect, .transaction, .bodyInterrupted, .reset: streaming = false
            }
            return (machine.operationAbandoned(handlerRemoved: handlerRemoved), streaming && handlerRemoved)
        }
        if bodyCut {
            logger.debug("SMTP body ended after the connection's handler was removed", metadata: ["smtp_phase": "data"])
        }
        if let answer { deliver(answer) }
    }

    /// Every write to the server: flushed at once (each flight is one write), then quick
    /// acknowledgements requested for what the server sends back.
    private func write(_ buffer: ByteBuffer, context: ChannelHandlerContext, promise: EventLoopPromise<Void>? = nil) {
        context.writeAndFlush(wrapOutboundOut(buffer), promise: promise)
        requestQuickAcknowledgement(context)
    }

    /// Asks the kernel to acknowledge the next segments from the server at once instead of
    /// delaying the ACK (Linux TCP_QUICKACK, which the kernel drops again by itself, hence
    /// after every write and read; skipped while `quickAcknowledgements` is off). A server
    /// with Nagle's algorithm on holds a small reply
    /// until its previous one is acknowledged: Postfix answers MAIL and RCPT while a large
    /// BDAT is still arriving, and its reply to BDAT then waited out our delayed ACK
    /// (about 40 ms per 100 KB message, measured).
    private func requestQuickAcknowledgement(_ context: ChannelHandlerContext) {
        #if os(Linux)
        guard quickAcknowledgements else { return }
        try? context.channel.syncOptions?.setOption(Self.quickAcknowledgement, value: 1)
        #endif
    }

    /// A flight up to this size fits one TLS record (16 KiB of plaintext). A server that
    /// reads it whole answers it in one write, as Postfix does a 2 KB flight; it may still
    /// split its replies (Postfix does at 15 KB), which channelRead then catches.
    static let smallFlightBytes = 16 * 1024 - 512

    #if os(Linux)
    private static let quickAcknowledgement = ChannelOptions.tcpOption(NIOBSDSocket.Option(rawValue: CInt(TCP_QUICKACK)))
    #endif

    private func reportSetupPhase(_ phase: SMTPPhase, isUsable: Bool, to report: @Sendable (SMTPPhase) -> Void) {
        if isUsable {
            onSetupPhase = nil
            return
        }
        switch phase {
        case .greeting, .tls, .ehlo, .auth:
            guard phase != reportedSetupPhase else { return }
            reportedSetupPhase = phase
            report(phase)
        case .connect, .mail, .rcpt, .data, .reset, .quit:
            // `connect` is where every attempt starts, and where a closed session reads.
            break
        }
    }

    private func logCommands(_ commands: [SMTPCommand], phase: SMTPPhase) {
        guard logger.logLevel <= .debug else { return }
        for command in commands {
            logger.debug("SMTP command", metadata: ["smtp_phase": "\(phase)", "smtp_command": "\(command)"])
        }
    }

    private func log(_ error: SidecarError, phase: SMTPPhase) {
        var metadata: Logger.Metadata = ["smtp_phase": "\(phase)", "error_code": "\(error.code)", "error": "\(error.message)"]
        if let reply = error.smtp {
            metadata["smtp_reply_code"] = "\(reply.code)"
            metadata["smtp_enhanced_code"] = "\(reply.enhancedCode ?? "")"
        }
        // Debug: the caller writes the one entry per send or verify that operators read.
        logger.debug("SMTP failed", metadata: metadata)
    }

    private func log(_ result: SMTPSendResult) {
        switch result {
        case .sent(let delivery):
            logger.debug(
                "SMTP message sent",
                metadata: [
                    "smtp_reply_code": "\(delivery.reply.code)",
                    "smtp_reply_text": "\(delivery.reply.text)",
                    "smtp_recipients_accepted": "\(delivery.acceptedRecipients.count)",
                    "smtp_recipients_rejected": "\(delivery.rejectedRecipients.count)",
                ]
            )
        case .notSent(let failure):
            log(failure.error, phase: failure.phase)
        case .mayHaveBeenSent(let failure):
            logger.debug("SMTP outcome unknown", metadata: ["smtp_phase": "\(failure.phase)", "error_code": "\(failure.error.code)"])
        }
    }

    // MARK: - Timers

    private func arm(_ timer: SMTPTimer, context: ChannelHandlerContext) {
        // The loop's clock (virtual on an embedded loop in tests), as scheduling uses.
        let due = context.eventLoop.now + TimeAmount(timer.duration)
        armed = (timer, due)
        if let task = timerTask, task.due <= due { return }
        scheduleTimerTask(due: due, context: context)
    }

    private func scheduleTimerTask(due: NIODeadline, context: ChannelHandlerContext) {
        timerTask?.scheduled.cancel()
        let scheduled = context.eventLoop.assumeIsolated().scheduleTask(deadline: due) {
            self.timerTask = nil
            guard let (timer, due) = self.armed else { return }
            if let context = self.context, context.eventLoop.now < due {
                self.scheduleTimerTask(due: due, context: context)
                return
            }
            self.disarmTimer()
            self.logger.debug("SMTP timeout", metadata: ["smtp_phase": "\(timer.phase)", "smtp_timeout": "\(timer.duration)"])
            self.handle(context: self.context) { $0.timerFired() }
        }
        timerTask = (scheduled, due)
    }

    /// Stops the phase timer; its task, if any, stays scheduled and finds nothing to do.
    private func disarmTimer() {
        armed = nil
    }

    private func armDeadline(_ deadline: NIODeadline?, context: ChannelHandlerContext) {
        deadlineTimer?.cancel()
        deadlineTimer = nil
        guard let deadline else { return }
        deadlineTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.deadlineTimer = nil
            self.logger.debug("SMTP deadline exceeded", metadata: ["smtp_phase": "\(self.phase)"])
            self.handle(context: self.context) { $0.deadlineExceeded() }
        }
    }

    /// Stops both timers and releases the phase timer's task (the connection is ending).
    private func cancelTimers() {
        finishTransactionTimers()
        timerTask?.scheduled.cancel()
        timerTask = nil
    }

    /// Stops both timers at the end of a transaction; the connection may serve another.
    private func finishTransactionTimers() {
        disarmTimer()
        deadlineTimer?.cancel()
        deadlineTimer = nil
    }
}
