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
/// closing), and completes the promises of the operation in flight.
///
/// It decodes replies itself rather than behind a `ByteToMessageHandler` so that, when
/// the 220 to STARTTLS arrives, it can see whether any byte follows it in the receive
/// buffer (RFC 3207 §6) before it puts the TLS handler in front of itself.
final class SMTPClientHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum TransactionProgress: Sendable {
        /// Stream the message through ``writeBody(_:promise:)``, framed for `transfer`
        /// (dot-stuffed after DATA's 354; as it is after BDAT).
        case streamBody(SMTPClientStateMachine.MessageTransfer)
        case finished(SMTPSendResult)
    }

    /// Thrown into the body writer when the message can no longer be written (the
    /// transaction ended early); the result is collected by ``abortBody(_:promise:)``.
    struct BodyWriteRefused: Error {}

    private enum Pending {
        case none
        case connect(EventLoopPromise<SMTPCapabilities>)
        case transaction(EventLoopPromise<TransactionProgress>)
        /// The writer streams the message; `written` bytes so far.
        case body(SMTPClientStateMachine.MessageTransfer, written: Int)
        /// BDAT: every announced byte is in the channel; the writer has yet to say it is
        /// done.
        case bodyWritten
        /// The transaction ended (server reply, timeout, lost connection) while the
        /// body was being streamed.
        case bodyInterrupted(SMTPSendResult)
        case reset(EventLoopPromise<Void>)
    }

    private var stateMachine: SMTPClientStateMachine
    private var decoder: SMTPReplyDecoder
    private let encoder = SMTPCommandEncoder()
    private var inbound: ByteBuffer?
    private var pending: Pending = .none
    /// The whole message of the transaction in flight, when the caller had it in hand.
    private var message: ByteBuffer?
    private var context: ChannelHandlerContext?
    private var logger: Logger
    private let host: String
    private let tlsContext: NIOSSLContext?
    private let tlsServerHostname: String?
    private let status: SMTPConnectionStatus
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
    private var connectPromise: EventLoopPromise<SMTPCapabilities>?
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
        status: SMTPConnectionStatus,
        deadline: NIODeadline?,
        onSetupPhase: (@Sendable (SMTPPhase) -> Void)? = nil,
        logger: Logger
    ) {
        self.stateMachine = SMTPClientStateMachine(configuration: configuration)
        self.decoder = SMTPReplyDecoder(limits: replyLimits)
        self.host = host
        self.tlsContext = tlsContext
        self.tlsServerHostname = tlsServerHostname
        self.status = status
        self.initialDeadline = deadline
        self.onSetupPhase = onSetupPhase
        self.logger = logger
    }

    /// Completes when the session is ready (greeting, TLS, EHLO, AUTH done), or fails
    /// with an ``SMTPFailure``. Valid once the handler is in a pipeline.
    var connected: EventLoopFuture<SMTPCapabilities> {
        connectPromise!.futureResult
    }

    var capabilities: SMTPCapabilities? { stateMachine.capabilities }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let promise = context.eventLoop.makePromise(of: SMTPCapabilities.self)
        connectPromise = promise
        pending = .connect(promise)
        armDeadline(initialDeadline, context: context)
        if context.channel.isActive { apply(stateMachine.channelActive(), context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
        failLeftoverPending()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        logger.debug("SMTP connected", metadata: ["smtp_remote_address": "\(context.remoteAddress.map { "\($0)" } ?? "?")"])
        apply(stateMachine.channelActive(), context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        apply(stateMachine.connectionClosed(), context: context)
        cancelTimers()
        failLeftoverPending()
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
            apply(stateMachine.tlsHandshakeCompleted(), context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? NIOSSLError, case .uncleanShutdown = error {
            // The server closed TCP without TLS close_notify: just a closed connection.
            apply(stateMachine.connectionClosed(), context: context)
            return
        }
        let mapped = SidecarError.smtpChannelError(error, host: host)
        logger.debug(
            "SMTP channel error",
            metadata: ["smtp_phase": "\(stateMachine.phase)", "error_code": "\(mapped.code)", "error": "\(mapped.message)"]
        )
        apply(stateMachine.failed(mapped), context: context)
    }

    private func decodeReplies(context: ChannelHandlerContext) {
        guard var buffer = inbound else { return }
        inbound = nil
        while true {
            if case .closed = stateMachine.state { return }
            let reply: SMTPResponse?
            do {
                reply = try decoder.decode(buffer: &buffer)
            } catch {
                logger.debug("SMTP malformed reply", metadata: ["smtp_phase": "\(stateMachine.phase)", "error": "\(error)"])
                apply(stateMachine.failed(.smtpChannelError(error, host: host)), context: context)
                return
            }
            guard let reply else { break }
            let loggable = stateMachine.loggable(reply)
            logger.debug(
                "SMTP reply",
                metadata: [
                    "smtp_phase": "\(stateMachine.phase)",
                    "smtp_reply_code": "\(reply.code)",
                    "smtp_enhanced_code": "\(reply.enhancedCode ?? "")",
                    "smtp_reply_text": "\(loggable.lines.joined(separator: "\\n"))",
                ]
            )
            var action = stateMachine.replyReceived(reply)
            if case .startTLS = action, buffer.readableBytes > 0 || decoder.hasPartialReply {
                logger.warning(
                    "SMTP server sent data after agreeing to STARTTLS; refusing to continue",
                    metadata: ["smtp_phase": "tls", "smtp_unexpected_bytes": "\(buffer.readableBytes)"]
                )
                action = stateMachine.plaintextReceivedBeforeTLS()
            }
            apply(action, context: context)
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
        guard case .none = pending else {
            promise.succeed(.finished(.notSent(SMTPSendFailure(error: .smtpConnectionBusy(), phase: .mail))))
            return
        }
        guard let context else {
            promise.succeed(.finished(.notSent(SMTPSendFailure(error: .smtpConnectionUnusable(), phase: .mail))))
            return
        }
        pending = .transaction(promise)
        self.message = message
        armDeadline(deadline, context: context)
        apply(stateMachine.sendRequested(request, options: options, messageInHand: message != nil), context: context)
    }

    /// Writes one chunk of the message, already framed (dot-stuffed for DATA); the promise
    /// completes when it is on its way to the socket, which is what paces the writer
    /// (backpressure). With BDAT the chunk that completes the announced size tells the
    /// state machine at once, since BDAT's reply may arrive before the writer finishes.
    func writeBody(_ buffer: ByteBuffer, promise: EventLoopPromise<Void>) {
        guard let context, case .body(let transfer, let written) = pending,
            case .writeBodyChunk(let timer) = stateMachine.bodyChunkReady()
        else {
            promise.fail(BodyWriteRefused())
            return
        }
        let total = written + buffer.readableBytes
        if case .bdat(let size) = transfer, total > size {
            promise.fail(BodyWriteRefused())
            apply(stateMachine.bodyFailed(.smtpMessageSizeMismatch(declared: size, actual: total)), context: context)
            return
        }
        arm(timer, context: context)
        write(buffer, context: context, promise: promise)
        if case .bdat(let size) = transfer, total == size {
            pending = .bodyWritten
            apply(stateMachine.bodyFinished(), context: context)
        } else {
            pending = .body(transfer, written: total)
        }
    }

    /// The whole message is out: with DATA send the final dot; either way wait for the reply.
    func finishBody(promise: EventLoopPromise<TransactionProgress>) {
        if context == nil, answerAfterRemoval(promise) { return }
        switch pending {
        case .bodyInterrupted(let result):
            pending = .none
            promise.succeed(.finished(result))
        case .bodyWritten:
            pending = .transaction(promise)
        case .body(let transfer, let written):
            pending = .transaction(promise)
            if case .bdat(let size) = transfer, written != size {
                apply(stateMachine.bodyFailed(.smtpMessageSizeMismatch(declared: size, actual: written)), context: context)
            } else {
                apply(stateMachine.bodyFinished(), context: context)
            }
        case .none, .connect, .transaction, .reset:
            promise.succeed(.finished(.notSent(SMTPSendFailure(error: .smtpConnectionUnusable(), phase: .data))))
        }
    }

    /// The message could not be produced or written: close without completing it.
    func abortBody(_ error: SidecarError, promise: EventLoopPromise<TransactionProgress>) {
        if context == nil, answerAfterRemoval(promise) { return }
        switch pending {
        case .bodyInterrupted(let result):
            pending = .none
            promise.succeed(.finished(result))
        case .body, .bodyWritten:
            // After .bodyWritten the message is complete; the server's reply decides.
            pending = .transaction(promise)
            apply(stateMachine.bodyFailed(error), context: context)
        case .none, .connect, .transaction, .reset:
            promise.succeed(.finished(.notSent(SMTPSendFailure(error: error, phase: .data))))
        }
    }

    func reset(deadline: NIODeadline?, promise: EventLoopPromise<Void>) {
        guard case .none = pending else {
            promise.fail(SMTPFailure(error: .smtpConnectionBusy(), phase: .reset))
            return
        }
        guard let context else {
            promise.fail(SMTPFailure(error: .smtpConnectionUnusable(), phase: .reset))
            return
        }
        pending = .reset(promise)
        armDeadline(deadline, context: context)
        apply(stateMachine.resetRequested(), context: context)
    }

    /// QUIT and close; the promise completes when the channel is closed. From an
    /// operation in flight, that operation ends as if the connection was lost.
    func quit(channel: any Channel, promise: EventLoopPromise<Void>) {
        channel.closeFuture.whenComplete { _ in promise.succeed(()) }
        guard let context else { return }
        apply(stateMachine.quitRequested(), context: context)
    }

    // MARK: - Actions

    private func apply(_ action: SMTPClientStateMachine.Action, context: ChannelHandlerContext?) {
        // Before any promise completes, so a caller resuming sees the new state.
        status.update(stateMachine)
        if let onSetupPhase { reportSetupPhase(onSetupPhase) }
        guard let context else {
            // The channel is gone: nothing can be written, but an answer still reaches
            // whoever waits for it.
            switch action {
            case .complete(let completion), .close(let completion?, _):
                complete(completion)
            case .none, .send, .armTimer, .startTLS, .sendMessage, .streamBody, .writeBodyChunk, .close(nil, _):
                break
            }
            return
        }
        switch action {
        case .none:
            break
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
                apply(stateMachine.failed(.smtpChannelError(error, host: host)), context: context)
            }
        case .sendMessage(let commands, let transfer, let timer):
            logCommands(commands, phase: timer.phase)
            var buffer = encoder.encode(commands, allocator: context.channel.allocator)
            guard var message else {
                apply(stateMachine.failed(.smtpProtocolError("no message in hand for the transaction")), context: context)
                return
            }
            self.message = nil
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
        case .streamBody(let commands, let transfer, let timer):
            if !commands.isEmpty {
                logCommands(commands, phase: timer.phase)
                write(encoder.encode(commands, allocator: context.channel.allocator), context: context)
            }
            arm(timer, context: context)
            if case .transaction(let promise) = pending {
                pending = .body(transfer, written: 0)
                promise.succeed(.streamBody(transfer))
            }
        case .writeBodyChunk(let timer):
            arm(timer, context: context)
        case .complete(let completion):
            quickAcknowledgements = true
            finishTransactionTimers()
            complete(completion)
        case .close(let completion, let sendQuit):
            quickAcknowledgements = true
            cancelTimers()
            if let completion { complete(completion) }
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

    private func complete(_ completion: SMTPClientStateMachine.Completion) {
        switch (completion, pending) {
        case (.connected(let capabilities), .connect(let promise)):
            pending = .none
            logger.debug(
                "SMTP session ready",
                metadata: ["smtp_tls": "\(stateMachine.isSecure)", "smtp_auth": "\(stateMachine.configuration.credentials != nil)"]
            )
            promise.succeed(capabilities)
        case (.connectFailed(let failure), .connect(let promise)):
            pending = .none
            log(failure.error, phase: failure.phase)
            promise.fail(failure)
        case (.transaction(let result), .transaction(let promise)):
            pending = .none
            message = nil
            log(result)
            promise.succeed(.finished(result))
        case (.transaction(let result), .body), (.transaction(let result), .bodyWritten):
            log(result)
            message = nil
            pending = .bodyInterrupted(result)
        case (.reset(nil), .reset(let promise)):
            pending = .none
            promise.succeed(())
        case (.reset(let failure?), .reset(let promise)):
            pending = .none
            log(failure.error, phase: failure.phase)
            promise.fail(failure)
        case (.quit, _):
            break
        case (.connected, _), (.connectFailed, _), (.transaction, _), (.reset, _):
            // Nothing waits for it (the operation already ended). Not expected.
            logger.debug("SMTP completion without a waiting operation", metadata: ["smtp_phase": "\(stateMachine.phase)"])
        }
    }

    /// The handler was removed (the channel is gone) while a message was still being
    /// handed over: nothing will ever answer a transaction now, so the body's end is
    /// answered here instead of waiting for ever. Whether the server may have the message
    /// follows from how much of it was handed over. Returns false when `pending` has an
    /// answer of its own (an interrupted body) or is not a body.
    private func answerAfterRemoval(_ promise: EventLoopPromise<TransactionProgress>) -> Bool {
        let result: SMTPSendResult
        switch pending {
        case .body:
            // Not all of it was handed over: no final dot, or BDAT bytes missing.
            result = .notSent(SMTPSendFailure(error: .smtpConnectionLost(phase: .data), phase: .data))
        case .bodyWritten:
            let lost = SidecarError.smtpConnectionLost(phase: .data)
            result = .mayHaveBeenSent(SMTPSendFailure(error: .smtpOutcomeUnknown(cause: lost), phase: .data))
        case .none, .connect, .transaction, .reset, .bodyInterrupted:
            return false
        }
        logger.debug("SMTP body ended after the connection's handler was removed", metadata: ["smtp_phase": "data"])
        pending = .none
        promise.succeed(.finished(result))
        return true
    }

    /// After the channel closed: whatever still waits gets a lost-connection failure.
    private func failLeftoverPending() {
        let error = SidecarError.smtpConnectionLost(phase: stateMachine.phase)
        message = nil
        switch pending {
        case .none, .body, .bodyWritten, .bodyInterrupted:
            break
        case .connect(let promise):
            promise.fail(SMTPFailure(error: error, phase: .connect))
            pending = .none
        case .transaction(let promise):
            promise.succeed(.finished(.notSent(SMTPSendFailure(error: error, phase: .mail))))
            pending = .none
        case .reset(let promise):
            promise.fail(SMTPFailure(error: error, phase: .reset))
            pending = .none
        }
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

    private func reportSetupPhase(_ report: @Sendable (SMTPPhase) -> Void) {
        if stateMachine.isUsable {
            onSetupPhase = nil
            return
        }
        let phase = stateMachine.phase
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
            self.apply(self.stateMachine.timerFired(), context: self.context)
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
            self.logger.debug("SMTP deadline exceeded", metadata: ["smtp_phase": "\(self.stateMachine.phase)"])
            self.apply(self.stateMachine.deadlineExceeded(), context: self.context)
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

extension TimeAmount {
    /// A `Duration` as a `TimeAmount`, saturating at about 292 years.
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let (nanos, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow {
            self = .nanoseconds(seconds < 0 ? .min : .max)
        } else {
            let (sum, overflow2) = nanos.addingReportingOverflow(attoseconds / 1_000_000_000)
            self = .nanoseconds(overflow2 ? .max : sum)
        }
    }
}
