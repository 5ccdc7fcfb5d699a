import NIOCore
import SidecarCore

/// Every decision of an SMTP client session, as a pure value: events in, ``Action``s out.
/// It never does I/O, never reads a clock and never sleeps; ``SMTPClientHandler`` applies
/// the actions (writes, TLS, timers, closing) on the event loop. It is the session's one
/// state: besides the protocol's ``State`` it holds the operation the shell waits on, with
/// its promise, and the streamed body's progress (``PendingOperation``, see
/// `SMTPClientStateMachine+Operation.swift`), and the claim that lets one operation run at
/// a time (``claim()``).
///
/// States and what each can become:
/// - `initialized`: channel not active yet. → `tlsHandshake` (implicit TLS) or `greeting`.
/// - `tlsHandshake(afterSTARTTLS:)`: waiting for the TLS handshake. → `greeting` (implicit
///   TLS) or `ehlo` (after STARTTLS); → `closed`.
/// - `greeting`: waiting for the 220. → `ehlo`, `closed`.
/// - `ehlo`: EHLO sent. → `helo` (5yz), `startTLS`, `authenticating`, `ready`, `closed`.
/// - `helo`: HELO sent after EHLO was refused. → `startTLS` never (no extensions), so
///   `authenticating`/`ready` or `closed`.
/// - `startTLS`: STARTTLS sent. → `tlsHandshake(afterSTARTTLS: true)`, `closed`.
/// - `authenticating`: AUTH exchange running. → `ready`, `closed`.
/// - `ready`: idle and usable. → `transaction`, `resetting`, `quitting`, `closed`.
/// - `transaction`: a message's MAIL/RCPT/DATA. → `ready` (final reply), `resetting`
///   (after a refusal), `closed`.
/// - `resetting`: RSET sent, explicitly or to end a failed transaction. → `ready`, `closed`.
/// - `quitting`: QUIT sent. → `closed`.
/// - `closed`: final.
struct SMTPClientStateMachine {
    struct Configuration: Sendable {
        var clientName: String
        /// Already resolved from the port.
        var security: SMTPSecurityMode
        var credentials: SMTPCredentials?
        var timeouts: SMTPTimeouts
        var allowsPlaintextAuthentication: Bool
        var extensions: SMTPExtensionUse
        /// The server's name and port as the user gave them (OAUTHBEARER names them).
        var host: String
        var port: Int

        init(
            clientName: String = SMTPConfiguration.defaultClientName,
            security: SMTPSecurityMode,
            credentials: SMTPCredentials? = nil,
            timeouts: SMTPTimeouts = .default,
            allowsPlaintextAuthentication: Bool = false,
            extensions: SMTPExtensionUse = .all,
            host: String = "localhost",
            port: Int = 587
        ) {
            self.host = host
            self.port = port
            self.clientName = clientName
            self.security = security
            self.credentials = credentials
            self.timeouts = timeouts
            self.allowsPlaintextAuthentication = allowsPlaintextAuthentication
            self.extensions = extensions
        }

        init(_ configuration: SMTPConfiguration) {
            self.init(
                clientName: configuration.clientName,
                security: configuration.resolvedSecurity,
                credentials: configuration.credentials,
                timeouts: configuration.timeouts,
                allowsPlaintextAuthentication: configuration.allowsPlaintextAuthentication,
                extensions: configuration.extensions,
                host: configuration.host,
                port: configuration.port
            )
        }
    }

    /// The end of the operation in flight.
    enum Completion: Sendable, Hashable {
        case connected(SMTPCapabilities)
        case connectFailed(SMTPFailure)
        case transaction(SMTPSendResult)
        /// nil: RSET succeeded.
        case reset(SMTPFailure?)
        case quit
    }

    enum Action: Sendable, Hashable {
        case none
        /// Write the commands in one flush, then arm the timer.
        case send([SMTPCommand], arm: SMTPTimer)
        /// Re-arm the timer only.
        case armTimer(SMTPTimer)
        /// Put the TLS handler in front of the SMTP handler (handshake starts), arm the timer.
        case startTLS(arm: SMTPTimer)
        /// Write `commands` (possibly none), then the whole message the shell holds, as
        /// `transfer` frames it (after BDAT: the bytes as they are; after DATA's 354:
        /// dot-stuffed, then `.` CRLF), all in one flush; arm the timer.
        case sendMessage(after: [SMTPCommand], transfer: MessageTransfer, arm: SMTPTimer)
        /// Write `commands` (possibly none) in one flush, then stream the message as
        /// `transfer` frames it, announcing each chunk with ``bodyChunkReady()``; arm the
        /// timer.
        case streamBody(after: [SMTPCommand], transfer: MessageTransfer, arm: SMTPTimer)
        /// Write the chunk of the message being offered; arm the timer.
        case writeBodyChunk(arm: SMTPTimer)
        /// Cancel the timer and finish the operation; the connection stays open.
        case complete(Completion)
        /// Cancel the timer, finish the operation in flight (if any), write QUIT first if
        /// `sendQuit`, and close the channel.
        case close(Completion?, sendQuit: Bool)
    }

    enum State: Sendable, Hashable {
        case initialized
        case tlsHandshake(afterSTARTTLS: Bool)
        case greeting
        case ehlo
        case helo
        case startTLS
        case authenticating(SMTPAuthExchange)
        case ready
        case transaction(Transaction)
        case resetting(after: SMTPSendResult?)
        case quitting
        case closed
    }

    let configuration: Configuration
    private(set) var state: State = .initialized
    /// From the last EHLO (after STARTTLS: the one over TLS).
    private(set) var capabilities: SMTPCapabilities?
    /// Whether TLS is up.
    private(set) var isSecure = false
    /// Messages the server accepted on this connection.
    private(set) var messagesSent = 0
    /// Transactions started (MAIL FROM sent) on this connection, whatever their end.
    private(set) var transactionsStarted = 0
    /// 4yz and 5yz replies the server gave once the session was set up (refused senders and
    /// recipients, refused messages, 421). Servers count these per session and drop it at
    /// a limit: chasquid at the third, stock Postfix at 20.
    private(set) var errorReplies = 0
    /// Whether a transaction on this connection used SMTPUTF8 (RFC 6531). Exim carries it
    /// into every later transaction of the session.
    private(set) var usedSMTPUTF8 = false
    /// The first line of the server's 220 greeting (it often names the software).
    private(set) var greeting = ""
    private var armedTimer: SMTPTimer?
    /// The operation the shell waits on and the promise that answers it.
    private(set) var operation: PendingOperation = .none
    /// Whether a caller holds the connection for an operation (``claim()``); it spans the
    /// whole operation, composing the message included.
    private(set) var isClaimed = false

    init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Whether the connection may carry another message: connected, authenticated and not
    /// closed. False for good after any doubtful end (timeout, protocol error, 421, lost
    /// connection, may-have-been-sent), since all of those close the connection.
    var isUsable: Bool {
        switch state {
        case .ready, .transaction, .resetting: true
        case .initialized, .tlsHandshake, .greeting, .ehlo, .helo, .startTLS, .authenticating, .quitting, .closed: false
        }
    }

    /// The phase the session is in, for errors and logs.
    var phase: SMTPPhase {
        switch state {
        case .initialized, .closed: .connect
        case .tlsHandshake, .startTLS: .tls
        case .greeting: .greeting
        case .ehlo, .helo: .ehlo
        case .authenticating: .auth
        case .ready: .mail
        case .transaction(let transaction):
            switch transaction.step {
            // While BDAT's bytes stream out the message is what is going on, even if
            // MAIL's and RCPT's pipelined replies are still due.
            case .mail: transaction.isStreamingBDAT ? .data : .mail
            case .rcpt: transaction.isStreamingBDAT ? .data : .rcpt
            case .dataInitiation, .body, .dataTermination: .data
            case .draining(_, let failure), .abortingData(let failure): failure.phase
            }
        case .resetting(let result?):
            result.failurePhase ?? .reset
        case .resetting(nil): .reset
        case .quitting: .quit
        }
    }

    /// `reply` as it may be logged: during AUTH, with anything that echoes a credential
    /// scrubbed.
    func loggable(_ reply: SMTPResponse) -> SMTPResponse {
        if case .authenticating(let exchange) = state { return exchange.scrub(reply) }
        return reply
    }

    // MARK: - Connection events

    /// The TCP connection is up.
    mutating func channelActive() -> Action {
        guard case .initialized = state else { return .none }
        if configuration.security == .implicitTLS {
            state = .tlsHandshake(afterSTARTTLS: false)
            return .armTimer(arm(timer(.tlsHandshake)))
        }
        state = .greeting
        return .armTimer(arm(timer(.greeting)))
    }

    mutating func tlsHandshakeCompleted() -> Action {
        switch state {
        case .tlsHandshake(afterSTARTTLS: false):
            isSecure = true
            state = .greeting
            return .armTimer(arm(timer(.greeting)))
        case .tlsHandshake(afterSTARTTLS: true):
            // RFC 3207 §4.2: forget everything learnt before TLS and ask again.
            isSecure = true
            capabilities = nil
            state = .ehlo
            return send([.ehlo(configuration.clientName)], timer(.ehlo))
        case .initialized, .greeting, .ehlo, .helo, .startTLS, .authenticating, .ready, .transaction, .resetting,
            .quitting, .closed:
            return .none
        }
    }

    /// Bytes were left in the receive buffer after the 220 to STARTTLS (RFC 3207 §6): the
    /// shell calls this instead of applying ``Action/startTLS(arm:)``.
    mutating func plaintextReceivedBeforeTLS() -> Action {
        guard case .tlsHandshake(afterSTARTTLS: true) = state else { return .none }
        return abort(.smtpPlaintextInjection())
    }

    /// The channel closed (by the server, or after a failure).
    mutating func connectionClosed() -> Action {
        switch state {
        case .closed:
            return .none
        case .quitting:
            state = .closed
            armedTimer = nil
            return .close(.quit, sendQuit: false)
        case .initialized, .tlsHandshake, .greeting, .ehlo, .helo, .startTLS, .authenticating, .ready, .transaction,
            .resetting:
            return abort(.smtpConnectionLost(phase: phase))
        }
    }

    /// An I/O, TLS or decoding error, already worded (code and message) by the shell.
    mutating func failed(_ error: SidecarError) -> Action {
        if case .closed = state { return .none }
        if case .quitting = state {
            state = .closed
            armedTimer = nil
            return .close(.quit, sendQuit: false)
        }
        return abort(error)
    }

    /// The armed timer fired.
    mutating func timerFired() -> Action {
        guard let timer = armedTimer else { return .none }
        armedTimer = nil
        switch state {
        case .ready, .closed:
            return .none
        case .quitting:
            state = .closed
            return .close(.quit, sendQuit: false)
        case .initialized, .tlsHandshake, .greeting, .ehlo, .helo, .startTLS, .authenticating, .transaction, .resetting:
            return abort(.smtpTimeout(timer))
        }
    }

    /// The overall deadline of the operation in flight passed.
    mutating func deadlineExceeded() -> Action {
        switch state {
        case .ready, .closed:
            return .none
        case .quitting:
            state = .closed
            armedTimer = nil
            return .close(.quit, sendQuit: false)
        case .initialized, .tlsHandshake, .greeting, .ehlo, .helo, .startTLS, .authenticating, .transaction, .resetting:
            return abort(.smtpDeadlineExceeded(phase: phase))
        }
    }

    // MARK: - Operations

    /// Send a message. The shell calls this only when no other operation is in flight.
    /// `messageInHand`: the shell holds the whole message (``SMTPTransactionRequest/size``
    /// is then its exact size) and writes it with the command it follows; otherwise it
    /// streams it.
    ///
    /// The flight depends on what the server offers and the configuration allows:
    /// PIPELINING and CHUNKING: MAIL, every RCPT, `BDAT <size> LAST` and the message in
    /// one write, then the replies in order. PIPELINING only: MAIL, the RCPTs and DATA in
    /// one write, the message after the 354. Neither: one command per round trip (with
    /// CHUNKING the message follows BDAT without waiting for a 354).
    mutating func sendRequested(
        _ request: SMTPTransactionRequest,
        options: SMTPSendOptions = SMTPSendOptions(),
        messageInHand: Bool = false
    ) -> Action {
        guard case .ready = state, let capabilities else {
            return .complete(.transaction(.notSent(SMTPSendFailure(error: .smtpConnectionUnusable(), phase: .mail))))
        }
        func refuse(_ error: SidecarError, _ phase: SMTPPhase) -> Action {
            .complete(.transaction(.notSent(SMTPSendFailure(error: error, phase: phase))))
        }
        guard !request.recipients.isEmpty else { return refuse(.smtpNoRecipients(), .rcpt) }
        guard ([request.reversePath] + request.recipients).allSatisfy(Self.isSafeEnvelopeAddress) else {
            return refuse(.smtpInvalidEnvelopeAddress(), .mail)
        }
        if request.requiresSMTPUTF8 && !capabilities.smtpUTF8 { return refuse(.smtpUTF8Unsupported(), .mail) }
        if let size = request.size, let limit = capabilities.maximumMessageSize, size > limit {
            return refuse(.smtpMessageTooLarge(size: size, limit: limit), .mail)
        }

        transactionsStarted += 1
        if request.requiresSMTPUTF8 { usedSMTPUTF8 = true }
        var mailParameters: [String] = []
        if capabilities.size, let size = request.size { mailParameters.append("SIZE=\(size)") }
        if request.requires8BitMIME && capabilities.eightBitMIME { mailParameters.append("BODY=8BITMIME") }
        if request.requiresSMTPUTF8 { mailParameters.append("SMTPUTF8") }
        var rcptParameters: [String] = []
        if capabilities.dsn, let dsn = options.dsn {
            mailParameters += dsn.mailParameters
            rcptParameters = dsn.rcptParameters
        }

        let transfer: MessageTransfer
        if capabilities.chunking && configuration.extensions.chunking, let size = request.size {
            transfer = .bdat(size: size)
        } else {
            transfer = .data
        }
        var transaction = Transaction(
            request: request,
            pipelined: capabilities.pipelining && configuration.extensions.pipelining,
            transfer: transfer,
            messageInHand: messageInHand,
            rcptParameters: rcptParameters,
            step: .mail
        )
        let mail = SMTPCommand.mail(reversePath: request.reversePath, parameters: mailParameters)
        guard transaction.pipelined else {
            state = .transaction(transaction)
            return send([mail], timer(.mail))
        }
        // RFC 2920: MAIL, every RCPT and DATA (or BDAT) in one group; replies come in order.
        var commands = [mail] + request.recipients.map { SMTPCommand.rcpt(forwardPath: $0, parameters: rcptParameters) }
        switch transfer {
        case .data:
            state = .transaction(transaction)
            return send(commands + [.data], timer(.mail))
        case .bdat(let size):
            commands.append(.bdat(size: size, last: true))
            return sendBDAT(commands, &transaction, awaiting: .mail)
        }
    }

    /// BDAT leaves with the message: in the same write when the shell holds it, else the
    /// message streams right after.
    private mutating func sendBDAT(_ commands: [SMTPCommand], _ transaction: inout Transaction, awaiting: TimerKind) -> Action {
        if transaction.messageInHand {
            transaction.messageOut = true
            state = .transaction(transaction)
            return .sendMessage(after: commands, transfer: transaction.transfer, arm: arm(timer(awaiting)))
        }
        state = .transaction(transaction)
        return .streamBody(after: commands, transfer: transaction.transfer, arm: arm(timer(.dataBlock)))
    }

    /// The shell has the next chunk of the message (already framed) to write.
    mutating func bodyChunkReady() -> Action {
        guard case .transaction(let transaction) = state, transaction.isStreaming else { return .none }
        return .writeBodyChunk(arm: arm(timer(.dataBlock)))
    }

    /// The whole message has been written. DATA: it ends with CRLF; send the final dot.
    /// BDAT: every announced byte is in the channel; wait for the replies still due.
    mutating func bodyFinished() -> Action {
        guard case .transaction(var transaction) = state, transaction.isStreaming else { return .none }
        if transaction.isBDAT {
            transaction.messageOut = true
            state = .transaction(transaction)
            return .armTimer(arm(timer(Self.timerKind(awaiting: transaction))))
        }
        transaction.step = .dataTermination
        transaction.messageOut = true
        state = .transaction(transaction)
        return send([.endOfData], timer(.dataTermination))
    }

    /// The message could not be produced (an attachment source failed) or written. It must
    /// not be completed (no final dot, no missing BDAT bytes): the connection is closed and
    /// the message is not sent.
    mutating func bodyFailed(_ error: SidecarError) -> Action {
        guard case .transaction(let transaction) = state, transaction.isStreaming else { return .none }
        return abort(error)
    }

    /// RSET; also a liveness check.
    mutating func resetRequested() -> Action {
        guard case .ready = state else {
            return .complete(.reset(SMTPFailure(error: .smtpConnectionUnusable(), phase: .reset)))
        }
        state = .resetting(after: nil)
        return send([.rset], timer(.reset))
    }

    /// QUIT. From an operation in flight it ends that operation and closes.
    mutating func quitRequested() -> Action {
        switch state {
        case .ready:
            state = .quitting
            return send([.quit], timer(.quit))
        case .closed:
            return .complete(.quit)
        case .quitting:
            return .none
        case .initialized, .tlsHandshake, .greeting, .ehlo, .helo, .startTLS, .authenticating, .transaction, .resetting:
            return abort(.smtpConnectionLost(phase: phase))
        }
    }

    // MARK: - Replies

    mutating func replyReceived(_ reply: SMTPResponse) -> Action {
        switch state {
        case .ready, .transaction, .resetting:
            if reply.isTransientFailure || reply.isPermanentFailure { errorReplies += 1 }
        case .initialized, .tlsHandshake, .greeting, .ehlo, .helo, .startTLS, .authenticating, .quitting, .closed:
            break
        }
        switch state {
        case .initialized:
            return abort(.smtpProtocolError("a reply before the connection was set up", reply: reply))
        case .tlsHandshake(let afterSTARTTLS):
            return abort(afterSTARTTLS ? .smtpPlaintextInjection() : .smtpProtocolError("a reply during the TLS handshake", reply: reply))
        case .greeting:
            return greetingReceived(reply)
        case .ehlo:
            return ehloReplyReceived(reply)
        case .helo:
            if reply.isPositiveCompletion {
                capabilities = SMTPCapabilities(serverName: reply.lines.first?.split(separator: " ").first.map(String.init) ?? "")
                return afterHello()
            }
            return abortOnRefusal(reply, awaiting: "HELO") { .smtpHelloRefused($0) }
        case .startTLS:
            if reply.code == 220 {
                state = .tlsHandshake(afterSTARTTLS: true)
                return .startTLS(arm: arm(timer(.tlsHandshake)))
            }
            return abortOnRefusal(reply, awaiting: "STARTTLS", phase: .tls) { .smtpSTARTTLSRefused($0) }
        case .authenticating(var exchange):
            let reply = exchange.scrub(reply)
            if reply.isPositiveCompletion {
                return becomeReady()
            }
            if reply.code == 334 {
                guard let answer = exchange.answerChallenge(reply) else {
                    return abort(.smtpUnexpectedReply(reply, awaiting: "AUTH"), sendQuit: true)
                }
                state = .authenticating(exchange)
                return send([answer], timer(.auth))
            }
            return abortOnRefusal(reply, awaiting: "AUTH") {
                .smtpAuthenticationFailed($0, mechanism: exchange.mechanism, oauthStatus: exchange.oauthErrorStatus)
            }
        case .ready:
            // Nothing was asked. A 421 is the server closing an idle connection.
            if reply.isServiceClosing { return abort(.smtpServiceClosing(reply, phase: .mail)) }
            return abort(.smtpProtocolError("an unsolicited reply", reply: reply))
        case .transaction(let transaction):
            return transactionReplyReceived(reply, transaction)
        case .resetting(let result):
            if reply.isPositiveCompletion {
                state = .ready
                return complete(result.map(Completion.transaction) ?? .reset(nil))
            }
            if reply.isServiceClosing { return abort(.smtpServiceClosing(reply, phase: .reset)) }
            return abort(.smtpUnexpectedReply(reply, awaiting: "RSET"))
        case .quitting:
            state = .closed
            armedTimer = nil
            return .close(.quit, sendQuit: false)
        case .closed:
            return .none
        }
    }

    private mutating func greetingReceived(_ reply: SMTPResponse) -> Action {
        greeting = reply.lines.first ?? ""
        if reply.code == 220 {
            state = .ehlo
            return send([.ehlo(configuration.clientName)], timer(.ehlo))
        }
        return abortOnRefusal(reply, awaiting: "the greeting") { .smtpGreetingRefused($0) }
    }

    private mutating func ehloReplyReceived(_ reply: SMTPResponse) -> Action {
        if reply.isPositiveCompletion {
            capabilities = SMTPCapabilities(ehloLines: reply.lines)
            return afterHello()
        }
        if reply.isPermanentFailure {
            // RFC 5321 §3.2: an old server that does not know EHLO; try HELO.
            state = .helo
            return send([.helo(configuration.clientName)], timer(.ehlo))
        }
        return abortOnRefusal(reply, awaiting: "EHLO") { .smtpHelloRefused($0) }
    }

    /// After EHLO/HELO succeeded: STARTTLS, AUTH, or ready.
    private mutating func afterHello() -> Action {
        let capabilities = capabilities ?? SMTPCapabilities()
        if configuration.security == .startTLS && !isSecure {
            guard capabilities.startTLS else {
                return abort(.smtpSTARTTLSNotOffered(), phase: .tls, sendQuit: true)
            }
            state = .startTLS
            return send([.startTLS], timer(.startTLS))
        }
        guard let credentials = configuration.credentials else {
            return becomeReady()
        }
        if !isSecure && !configuration.allowsPlaintextAuthentication {
            return abort(.smtpPlaintextAuthenticationRefused(), phase: .auth, sendQuit: true)
        }
        guard let mechanism = SMTPAuthExchange.choose(credentials: credentials, offered: capabilities) else {
            return abort(
                .smtpAuthenticationUnavailable(offered: capabilities.authMechanisms, wanted: credentials),
                phase: .auth,
                sendQuit: true
            )
        }
        let (command, exchange) = SMTPAuthExchange.start(
            mechanism: mechanism, credentials: credentials, host: configuration.host, port: configuration.port)
        state = .authenticating(exchange)
        return send([command], timer(.auth))
    }

    private mutating func becomeReady() -> Action {
        state = .ready
        return complete(.connected(capabilities ?? SMTPCapabilities()))
    }

    private mutating func transactionReplyReceived(_ reply: SMTPResponse, _ transaction: Transaction) -> Action {
        var transaction = transaction
        let recipients = transaction.request.recipients
        if reply.isServiceClosing {
            return serviceClosed(reply, transaction)
        }
        switch transaction.step {
        case .mail:
            guard reply.isPositiveCompletion else {
                guard reply.isTransientFailure || reply.isPermanentFailure else {
                    return abort(.smtpUnexpectedReply(reply, awaiting: "MAIL FROM"))
                }
                let failure = SMTPSendFailure(
                    error: .smtpSenderRejected(reply, sender: transaction.request.reversePath),
                    phase: .mail
                )
                return transactionFailed(transaction, failure, repliesStillDue: transaction.pipelined ? recipients.count + 1 : 0)
            }
            transaction.step = .rcpt(0)
            state = .transaction(transaction)
            if transaction.pipelined { return awaitNextReply(transaction) }
            return send([rcptCommand(0, transaction)], timer(.rcpt))

        case .rcpt(let index):
            guard !reply.isPositiveIntermediate else {
                return abort(.smtpUnexpectedReply(reply, awaiting: "RCPT TO"))
            }
            transaction.recipients.append(SMTPRecipientResult(address: recipients[index], reply: reply.reply))
            if index + 1 < recipients.count {
                transaction.step = .rcpt(index + 1)
                state = .transaction(transaction)
                if transaction.pipelined { return awaitNextReply(transaction) }
                return send([rcptCommand(index + 1, transaction)], timer(.rcpt))
            }
            if transaction.pipelined {
                if !transaction.isBDAT {
                    // DATA's reply is next; it decides.
                    transaction.step = .dataInitiation
                    state = .transaction(transaction)
                    return .armTimer(arm(timer(.dataInitiation)))
                }
                // BDAT's reply is next. With no recipient it can only be a refusal.
                guard transaction.anyRecipientAccepted else {
                    return transactionFailed(transaction, recipientsRejected(transaction), repliesStillDue: 1)
                }
                transaction.step = .dataTermination
                state = .transaction(transaction)
                return awaitNextReply(transaction)
            }
            guard transaction.anyRecipientAccepted else {
                return transactionFailed(transaction, recipientsRejected(transaction), repliesStillDue: 0)
            }
            if case .bdat(let size) = transaction.transfer {
                transaction.step = .dataTermination
                return sendBDAT([.bdat(size: size, last: true)], &transaction, awaiting: .dataTermination)
            }
            transaction.step = .dataInitiation
            state = .transaction(transaction)
            return send([.data], timer(.dataInitiation))

        case .dataInitiation:
            if reply.code == 354 {
                guard transaction.anyRecipientAccepted else {
                    transaction.step = .abortingData(failure: recipientsRejected(transaction))
                    state = .transaction(transaction)
                    return send([.endOfData], timer(.dataTermination))
                }
                if transaction.messageInHand {
                    transaction.step = .dataTermination
                    transaction.messageOut = true
                    state = .transaction(transaction)
                    return .sendMessage(after: [], transfer: .data, arm: arm(timer(.dataTermination)))
                }
                transaction.step = .body
                state = .transaction(transaction)
                return .streamBody(after: [], transfer: .data, arm: arm(timer(.dataBlock)))
            }
            guard transaction.anyRecipientAccepted else {
                return transactionFailed(transaction, recipientsRejected(transaction), repliesStillDue: 0)
            }
            guard reply.isTransientFailure || reply.isPermanentFailure else {
                return abort(.smtpUnexpectedReply(reply, awaiting: "DATA"))
            }
            let failure = SMTPSendFailure(error: .smtpDataRefused(reply), phase: .data, recipients: transaction.recipients)
            return transactionFailed(transaction, failure, repliesStillDue: 0)

        case .body:
            // The server spoke in the middle of the message: it has given up on it.
            return serverSpokeMidMessage(reply)

        case .dataTermination:
            if transaction.isBDAT && !transaction.messageOut {
                // BDAT's reply before all its bytes were written.
                return serverSpokeMidMessage(reply)
            }
            if reply.isPositiveCompletion {
                messagesSent += 1
                state = .ready
                return complete(.transaction(.sent(SMTPDelivery(reply: reply.reply, recipients: transaction.recipients))))
            }
            if reply.isTransientFailure || reply.isPermanentFailure {
                // The transaction is over either way (RFC 5321 §4.1.1.4, RFC 3030 §2); no RSET.
                state = .ready
                let failure = SMTPSendFailure(error: .smtpMessageRejected(reply), phase: .data, recipients: transaction.recipients)
                return complete(.transaction(.notSent(failure)))
            }
            return abort(.smtpUnexpectedReply(reply, awaiting: transaction.isBDAT ? "BDAT" : "the end of the message"))

        case .draining(let remaining, let failure):
            if remaining > 1 {
                transaction.step = .draining(remaining: remaining - 1, failure: failure)
                state = .transaction(transaction)
                return awaitNextReply(transaction)
            }
            if transaction.isBDAT {
                // BDAT's reply. Sending RSET while its bytes are still going out would
                // make them commands: the connection cannot be kept.
                if !transaction.messageOut { return closeTransaction(transaction, failure.error) }
                return resetAfter(.notSent(failure))
            }
            if reply.code == 354 {
                transaction.step = .abortingData(failure: failure)
                state = .transaction(transaction)
                return send([.endOfData], timer(.dataTermination))
            }
            return resetAfter(.notSent(failure))

        case .abortingData(let failure):
            return resetAfter(.notSent(failure))
        }
    }

    /// A reply while the message is still going out: the server has given up on it.
    private mutating func serverSpokeMidMessage(_ reply: SMTPResponse) -> Action {
        if reply.isTransientFailure || reply.isPermanentFailure {
            return abort(.smtpMessageRejected(reply))
        }
        return abort(.smtpUnexpectedReply(reply, awaiting: "the message data"))
    }

    /// With PIPELINING the next reply is already due: wait for it. While BDAT's bytes are
    /// streaming, the chunk timer keeps governing.
    private mutating func awaitNextReply(_ transaction: Transaction) -> Action {
        if transaction.isStreamingBDAT { return .none }
        return .armTimer(arm(timer(Self.timerKind(awaiting: transaction))))
    }

    /// The timer for the reply `transaction` waits for next.
    static func timerKind(awaiting transaction: Transaction) -> TimerKind {
        switch transaction.step {
        case .mail: .mail
        case .rcpt: .rcpt
        case .dataInitiation: .dataInitiation
        case .body: .dataBlock
        case .dataTermination, .abortingData: .dataTermination
        // The last reply drained is DATA's (short) or BDAT's (after the whole message).
        case .draining: transaction.isBDAT ? .dataTermination : .rcpt
        }
    }

    /// 421 in place of any reply: the server refuses and closes. Whatever was sent after
    /// the command it answers is not processed, so nothing was sent.
    ///
    /// A 421 answering MAIL, a RCPT, DATA or BDAT (with PIPELINING: in the middle of the
    /// flight's replies) comes before the server took any of the message: the failure says
    /// so (``SMTPSendFailure/closedBeforeMessage``) with the RCPT replies read so far, so a
    /// caller can send again to the recipients not refused. Servers do this when a session
    /// reaches their error limit, and refused recipients count as errors. When every
    /// recipient was answered and none accepted, the answer is that refusal, not the 421.
    private mutating func serviceClosed(_ reply: SMTPResponse, _ transaction: Transaction) -> Action {
        if transaction.decidedFailure != nil {
            return closeTransaction(transaction, .smtpServiceClosing(reply, phase: phase))
        }
        // The command the 421 answers, even while a streamed BDAT message is going out.
        let answered: SMTPPhase
        let beforeMessage: Bool
        switch transaction.step {
        case .mail: (answered, beforeMessage) = (.mail, true)
        case .rcpt: (answered, beforeMessage) = (.rcpt, true)
        case .dataInitiation: (answered, beforeMessage) = (.data, true)
        // BDAT's reply comes after its bytes, but a 421 to it refuses them unread.
        case .dataTermination: (answered, beforeMessage) = (.data, transaction.isBDAT)
        case .body, .draining, .abortingData: (answered, beforeMessage) = (phase, false)
        }
        var failure = SMTPSendFailure(
            error: .smtpServiceClosing(reply, phase: answered), phase: answered, recipients: transaction.recipients,
            closedBeforeMessage: beforeMessage)
        if beforeMessage, transaction.recipients.count == transaction.request.recipients.count,
            !transaction.anyRecipientAccepted
        {
            failure.error = .smtpRecipientsRejected(transaction.recipients)
            failure.phase = .rcpt
        }
        state = .closed
        armedTimer = nil
        return .close(.transaction(.notSent(failure)), sendQuit: false)
    }

    /// Ends the transaction with a definite "not sent" and closes the connection.
    private mutating func closeTransaction(_ transaction: Transaction, _ error: SidecarError) -> Action {
        let failure = transaction.decidedFailure
            ?? SMTPSendFailure(error: error, phase: phase, recipients: transaction.recipients)
        state = .closed
        armedTimer = nil
        return .close(.transaction(.notSent(failure)), sendQuit: false)
    }

    private func rcptCommand(_ index: Int, _ transaction: Transaction) -> SMTPCommand {
        .rcpt(forwardPath: transaction.request.recipients[index], parameters: transaction.rcptParameters)
    }

    private func recipientsRejected(_ transaction: Transaction) -> SMTPSendFailure {
        SMTPSendFailure(
            error: .smtpRecipientsRejected(transaction.recipients),
            phase: .rcpt,
            recipients: transaction.recipients
        )
    }

    /// A refusal ends the transaction: read the pipelined replies still due, then RSET.
    private mutating func transactionFailed(_ transaction: Transaction, _ failure: SMTPSendFailure, repliesStillDue: Int) -> Action {
        if repliesStillDue > 0 {
            var transaction = transaction
            transaction.step = .draining(remaining: repliesStillDue, failure: failure)
            state = .transaction(transaction)
            return awaitNextReply(transaction)
        }
        return resetAfter(.notSent(failure))
    }

    private mutating func resetAfter(_ result: SMTPSendResult) -> Action {
        state = .resetting(after: result)
        return send([.rset], timer(.reset))
    }

    // MARK: - Helpers

    /// A refusal (4yz/5yz) or a reply that makes no sense here: either way the operation
    /// ends and the connection closes. 421 is always "service closing".
    private mutating func abortOnRefusal(
        _ reply: SMTPResponse,
        awaiting: String,
        phase: SMTPPhase? = nil,
        refusal: (SMTPResponse) -> SidecarError
    ) -> Action {
        if reply.isServiceClosing { return abort(.smtpServiceClosing(reply, phase: phase ?? self.phase)) }
        if reply.isTransientFailure || reply.isPermanentFailure {
            return abort(refusal(reply), phase: phase, sendQuit: true)
        }
        return abort(.smtpUnexpectedReply(reply, awaiting: awaiting), phase: phase, sendQuit: true)
    }

    /// The connection cannot continue: report `error` to the operation in flight and close.
    private mutating func abort(_ error: SidecarError, phase: SMTPPhase? = nil, sendQuit: Bool = false) -> Action {
        let phase = phase ?? self.phase
        let completion: Completion?
        switch state {
        case .initialized, .tlsHandshake, .greeting, .ehlo, .helo, .startTLS, .authenticating:
            completion = .connectFailed(SMTPFailure(error: error, phase: phase))
        case .ready:
            completion = nil
        case .transaction(let transaction):
            if let failure = transaction.decidedFailure {
                completion = .transaction(.notSent(failure))
            } else if transaction.serverMayHaveMessage {
                let failure = SMTPSendFailure(error: .smtpOutcomeUnknown(cause: error), phase: .data, recipients: transaction.recipients)
                completion = .transaction(.mayHaveBeenSent(failure))
            } else {
                let failure = SMTPSendFailure(error: error, phase: phase, recipients: transaction.recipients)
                completion = .transaction(.notSent(failure))
            }
        case .resetting(let result?):
            completion = .transaction(result)
        case .resetting(nil):
            completion = .reset(SMTPFailure(error: error, phase: .reset))
        case .quitting:
            completion = .quit
        case .closed:
            return .none
        }
        state = .closed
        armedTimer = nil
        return .close(completion, sendQuit: sendQuit)
    }

    private mutating func send(_ commands: [SMTPCommand], _ timer: SMTPTimer) -> Action {
        .send(commands, arm: arm(timer))
    }

    private mutating func complete(_ completion: Completion) -> Action {
        armedTimer = nil
        return .complete(completion)
    }

    private mutating func arm(_ timer: SMTPTimer) -> SMTPTimer {
        armedTimer = timer
        return timer
    }

    enum TimerKind {
        case tlsHandshake, greeting, ehlo, startTLS, auth, mail, rcpt, dataInitiation, dataBlock, dataTermination, reset, quit
    }

    func timer(_ kind: TimerKind) -> SMTPTimer {
        let timeouts = configuration.timeouts
        switch kind {
        case .tlsHandshake: return SMTPTimer(phase: .tls, duration: timeouts.tlsHandshake, awaiting: "TLS handshake")
        case .greeting: return SMTPTimer(phase: .greeting, duration: timeouts.greeting, awaiting: "greeting from the server")
        case .ehlo: return SMTPTimer(phase: .ehlo, duration: timeouts.command, awaiting: "reply to EHLO")
        case .startTLS: return SMTPTimer(phase: .tls, duration: timeouts.command, awaiting: "reply to STARTTLS")
        case .auth: return SMTPTimer(phase: .auth, duration: timeouts.command, awaiting: "reply to AUTH")
        case .mail: return SMTPTimer(phase: .mail, duration: timeouts.mail, awaiting: "reply to MAIL FROM")
        case .rcpt: return SMTPTimer(phase: .rcpt, duration: timeouts.rcpt, awaiting: "reply to RCPT TO")
        case .dataInitiation: return SMTPTimer(phase: .data, duration: timeouts.dataInitiation, awaiting: "reply to DATA")
        case .dataBlock:
            return SMTPTimer(phase: .data, duration: timeouts.dataBlock, awaiting: "progress sending the message (the server stopped reading it)")
        case .dataTermination:
            return SMTPTimer(phase: .data, duration: timeouts.dataTermination, awaiting: "reply after the end of the message")
        case .reset: return SMTPTimer(phase: .reset, duration: timeouts.command, awaiting: "reply to RSET")
        case .quit: return SMTPTimer(phase: .quit, duration: timeouts.command, awaiting: "reply to QUIT")
        }
    }

    /// No CR, LF, angle brackets or NUL, which would break the command line.
    static func isSafeEnvelopeAddress(_ address: String) -> Bool {
        !address.utf8.contains { $0 == 13 || $0 == 10 || $0 == 0 || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") }
    }
}

extension SMTPSendResult {
    var failurePhase: SMTPPhase? {
        switch self {
        case .sent: nil
        case .notSent(let failure), .mayHaveBeenSent(let failure): failure.phase
        }
    }
}

// MARK: - The operations the shell waits on

/// The protocol's events (replies, timers, the channel) return an ``Action``; the shell
/// passes it through ``settle(_:)``, which ties it to the operation in flight: the promise
/// it answers, the message in hand it writes, the streamed body it interrupts. The state
/// machine still does no I/O: it hands the promises back in ``Outcome``s and the shell
/// completes them after applying the action.
extension SMTPClientStateMachine {
    // MARK: - Claim

    /// Claims the connection for one operation (a send, from composing the message to its
    /// result; a reset); false when another one holds it.
    mutating func claim() -> Bool {
        if isClaimed { return false }
        isClaimed = true
        return true
    }

    mutating func releaseClaim() {
        isClaimed = false
    }

    // MARK: - Operations

    /// The handler joined a pipeline: setting up the session is the operation in flight.
    mutating func connectRequested(_ promise: EventLoopPromise<SMTPCapabilities>) {
        operation = .connect(promise)
    }

    /// A message's transaction (``sendRequested(_:options:messageInHand:)``), answered by
    /// `promise`. `message`: the whole message, when the caller has it in hand.
    /// `attached`: whether the handler is still in a pipeline. Returns whether it started:
    /// the deadline applies only then.
    mutating func transactionRequested(
        _ request: SMTPTransactionRequest,
        options: SMTPSendOptions,
        message: ByteBuffer?,
        attached: Bool,
        promise: EventLoopPromise<TransactionProgress>
    ) -> (started: Bool, outcome: Outcome) {
        func refuse(_ error: SidecarError) -> (Bool, Outcome) {
            (false, Outcome(.none, answer: .transaction(promise, .finished(.notSent(SMTPSendFailure(error: error, phase: .mail))))))
        }
        guard case .none = operation else { return refuse(.smtpConnectionBusy()) }
        guard attached else { return refuse(.smtpConnectionUnusable()) }
        operation = .transaction(promise, message: message)
        return (true, settle(sendRequested(request, options: options, messageInHand: message != nil)))
    }

    /// RSET (``resetRequested()``), answered by `promise`. Returns whether it started.
    mutating func resetOperationRequested(attached: Bool, promise: EventLoopPromise<Void>) -> (started: Bool, outcome: Outcome) {
        guard case .none = operation else {
            return (false, Outcome(.none, answer: .reset(promise, .failure(SMTPFailure(error: .smtpConnectionBusy(), phase: .reset)))))
        }
        guard attached else {
            return (false, Outcome(.none, answer: .reset(promise, .failure(SMTPFailure(error: .smtpConnectionUnusable(), phase: .reset)))))
        }
        operation = .reset(promise)
        return (true, settle(resetRequested()))
    }

    /// The body writer offers a chunk of `bytes` bytes, already framed. With BDAT the
    /// chunk that completes the announced size tells the protocol at once, since BDAT's
    /// reply may arrive before the writer finishes; one that overruns it abandons the
    /// message.
    mutating func bodyChunkOffered(bytes: Int, attached: Bool) -> BodyChunkDecision {
        guard attached, case .body(let transfer, let written) = operation,
            case .writeBodyChunk(let timer) = bodyChunkReady()
        else {
            return .refuse(then: nil)
        }
        let total = written + bytes
        if case .bdat(let size) = transfer {
            if total > size {
                return .refuse(then: settle(bodyFailed(.smtpMessageSizeMismatch(declared: size, actual: total))))
            }
            if total == size {
                operation = .bodyWritten
                return .write(arm: timer, then: settle(bodyFinished()))
            }
        }
        operation = .body(transfer, written: total)
        return .write(arm: timer, then: nil)
    }

    /// The writer has handed over the whole message: with DATA send the final dot; either
    /// way the server's reply answers `promise`.
    mutating func bodyEnded(_ promise: EventLoopPromise<TransactionProgress>) -> Outcome {
        switch operation {
        case .bodyInterrupted(let result):
            operation = .none
            return Outcome(.none, answer: .transaction(promise, .finished(result)))
        case .bodyWritten:
            operation = .transaction(promise, message: nil)
            return Outcome(.none)
        case .body(let transfer, let written):
            operation = .transaction(promise, message: nil)
            if case .bdat(let size) = transfer, written != size {
                return settle(bodyFailed(.smtpMessageSizeMismatch(declared: size, actual: written)))
            }
            return settle(bodyFinished())
        case .none, .connect, .transaction, .reset:
            let failure = SMTPSendFailure(error: .smtpConnectionUnusable(), phase: .data)
            return Outcome(.none, answer: .transaction(promise, .finished(.notSent(failure))))
        }
    }

    /// The message could not be produced or written: it must not be completed, and the
    /// connection closes (``bodyFailed(_:)``); `promise` gets the transaction's result.
    mutating func bodyAbandoned(_ error: SidecarError, promise: EventLoopPromise<TransactionProgress>) -> Outcome {
        switch operation {
        case .bodyInterrupted(let result):
            operation = .none
            return Outcome(.none, answer: .transaction(promise, .finished(result)))
        case .body, .bodyWritten:
            // After .bodyWritten the message is complete; the server's reply decides.
            operation = .transaction(promise, message: nil)
            return settle(bodyFailed(error))
        case .none, .connect, .transaction, .reset:
            return Outcome(.none, answer: .transaction(promise, .finished(.notSent(SMTPSendFailure(error: error, phase: .data)))))
        }
    }

    /// The channel closed (`handlerRemoved` false) or the handler left the pipeline: what
    /// still waits gets a lost-connection failure. Once the handler is gone nothing will
    /// ever answer a streamed body's transaction, so its result is decided here from how
    /// much of the message was handed over.
    mutating func operationAbandoned(handlerRemoved: Bool) -> Answer? {
        let error = SidecarError.smtpConnectionLost(phase: phase)
        switch operation {
        case .none, .bodyInterrupted:
            return nil
        case .body:
            // Not all of it was handed over: no final dot, or BDAT bytes missing.
            if handlerRemoved {
                let lost = SidecarError.smtpConnectionLost(phase: .data)
                operation = .bodyInterrupted(.notSent(SMTPSendFailure(error: lost, phase: .data)))
            }
            return nil
        case .bodyWritten:
            if handlerRemoved {
                let lost = SidecarError.smtpConnectionLost(phase: .data)
                operation = .bodyInterrupted(.mayHaveBeenSent(SMTPSendFailure(error: .smtpOutcomeUnknown(cause: lost), phase: .data)))
            }
            return nil
        case .connect(let promise):
            operation = .none
            return .connect(promise, .failure(SMTPFailure(error: error, phase: .connect)))
        case .transaction(let promise, _):
            operation = .none
            return .transaction(promise, .finished(.notSent(SMTPSendFailure(error: error, phase: .mail))))
        case .reset(let promise):
            operation = .none
            return .reset(promise, .failure(SMTPFailure(error: error, phase: .reset)))
        }
    }

    // MARK: - Settling

    /// Ties an action of the protocol to the operation in flight: the message in hand it
    /// writes, the promise it answers, or the streamed body it interrupts.
    mutating func settle(_ action: Action) -> Outcome {
        var outcome = Outcome(action)
        switch action {
        case .none, .send, .armTimer, .startTLS, .writeBodyChunk, .close(nil, _):
            break
        case .sendMessage:
            if case .transaction(let promise, let message) = operation {
                operation = .transaction(promise, message: nil)
                outcome.message = message
            }
        case .streamBody(_, let transfer, _):
            if case .transaction(let promise, _) = operation {
                operation = .body(transfer, written: 0)
                outcome.answer = .transaction(promise, .streamBody(transfer))
            }
        case .complete(let completion), .close(let completion?, _):
            settle(completion, &outcome)
        }
        return outcome
    }

    private mutating func settle(_ completion: Completion, _ outcome: inout Outcome) {
        switch (completion, operation) {
        case (.connected(let capabilities), .connect(let promise)):
            operation = .none
            outcome.answer = .connect(promise, .success(capabilities))
        case (.connectFailed(let failure), .connect(let promise)):
            operation = .none
            outcome.answer = .connect(promise, .failure(failure))
        case (.transaction(let result), .transaction(let promise, _)):
            operation = .none
            outcome.answer = .transaction(promise, .finished(result))
        case (.transaction(let result), .body), (.transaction(let result), .bodyWritten):
            operation = .bodyInterrupted(result)
        case (.reset(nil), .reset(let promise)):
            operation = .none
            outcome.answer = .reset(promise, .success(()))
        case (.reset(let failure?), .reset(let promise)):
            operation = .none
            outcome.answer = .reset(promise, .failure(failure))
        case (.quit, _):
            break
        case (.connected, _), (.connectFailed, _), (.transaction, _), (.reset, _):
            // Nothing waits for it (the operation already ended).
            outcome.unanswered = true
        }
    }
}
