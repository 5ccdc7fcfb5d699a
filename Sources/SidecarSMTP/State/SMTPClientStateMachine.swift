import SidecarCore

/// Every decision of an SMTP client session, as a pure value: events in, ``Action``s out.
/// It never does I/O, never reads a clock and never sleeps; ``SMTPClientHandler`` applies
/// the actions (writes, TLS, timers, closing) on the event loop. One operation runs at a
/// time (connect, a message's transaction, RSET, QUIT); the shell ensures that.
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

        init(
            clientName: String = SMTPConfiguration.defaultClientName,
            security: SMTPSecurityMode,
            credentials: SMTPCredentials? = nil,
            timeouts: SMTPTimeouts = .default,
            allowsPlaintextAuthentication: Bool = false
        ) {
            self.clientName = clientName
            self.security = security
            self.credentials = credentials
            self.timeouts = timeouts
            self.allowsPlaintextAuthentication = allowsPlaintextAuthentication
        }

        init(_ configuration: SMTPConfiguration) {
            self.init(
                clientName: configuration.clientName,
                security: configuration.resolvedSecurity,
                credentials: configuration.credentials,
                timeouts: configuration.timeouts,
                allowsPlaintextAuthentication: configuration.allowsPlaintextAuthentication
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
        /// DATA was accepted: the message may be streamed now; arm the timer.
        case streamBody(arm: SMTPTimer)
        /// Write the chunk of the message being offered; arm the timer.
        case writeBodyChunk(arm: SMTPTimer)
        /// Cancel the timer and finish the operation; the connection stays open.
        case complete(Completion)
        /// Cancel the timer, finish the operation in flight (if any), write QUIT first if
        /// `sendQuit`, and close the channel.
        case close(Completion?, sendQuit: Bool)
    }

    struct Transaction: Sendable, Hashable {
        enum Step: Sendable, Hashable {
            case mail
            case rcpt(Int)
            case dataInitiation
            case body
            /// The final dot is out: from here a lost reply means "may have been sent".
            case dataTermination
            /// A pipelined command failed; `remaining` replies are still due, DATA's last.
            case draining(remaining: Int, failure: SMTPSendFailure)
            /// DATA got 354 although no recipient was accepted (RFC 2920 §3.1): a lone dot
            /// was sent to end it.
            case abortingData(failure: SMTPSendFailure)
        }

        var request: SMTPTransactionRequest
        var pipelined: Bool
        var rcptParameters: [String]
        var step: Step
        var recipients: [SMTPRecipientResult] = []

        var anyRecipientAccepted: Bool { recipients.contains(where: \.accepted) }
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
    private var armedTimer: SMTPTimer?

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
            case .mail: .mail
            case .rcpt: .rcpt
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
    mutating func sendRequested(_ request: SMTPTransactionRequest, options: SMTPSendOptions = SMTPSendOptions()) -> Action {
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

        var mailParameters: [String] = []
        if capabilities.size, let size = request.size { mailParameters.append("SIZE=\(size)") }
        if request.requires8BitMIME && capabilities.eightBitMIME { mailParameters.append("BODY=8BITMIME") }
        if request.requiresSMTPUTF8 { mailParameters.append("SMTPUTF8") }
        var rcptParameters: [String] = []
        if capabilities.dsn, let dsn = options.dsn {
            mailParameters += dsn.mailParameters
            rcptParameters = dsn.rcptParameters
        }

        let transaction = Transaction(
            request: request,
            pipelined: capabilities.pipelining,
            rcptParameters: rcptParameters,
            step: .mail
        )
        state = .transaction(transaction)
        var commands: [SMTPCommand] = [.mail(reversePath: request.reversePath, parameters: mailParameters)]
        if transaction.pipelined {
            // RFC 2920: MAIL, every RCPT and DATA in one group; replies are read in order.
            commands += request.recipients.map { .rcpt(forwardPath: $0, parameters: rcptParameters) }
            commands.append(.data)
        }
        return send(commands, timer(.mail))
    }

    /// The shell has the next chunk of the message (already dot-stuffed) to write.
    mutating func bodyChunkReady() -> Action {
        guard case .transaction(let transaction) = state, case .body = transaction.step else { return .none }
        return .writeBodyChunk(arm: arm(timer(.dataBlock)))
    }

    /// The whole message has been written (ending with CRLF): send the final dot.
    mutating func bodyFinished() -> Action {
        guard case .transaction(var transaction) = state, case .body = transaction.step else { return .none }
        transaction.step = .dataTermination
        state = .transaction(transaction)
        return send([.endOfData], timer(.dataTermination))
    }

    /// The message could not be produced (an attachment source failed) or written. The
    /// final dot must not go out: the connection is closed and the message is not sent.
    mutating func bodyFailed(_ error: SidecarError) -> Action {
        guard case .transaction(let transaction) = state, case .body = transaction.step else { return .none }
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
                guard let answer = exchange.answerChallenge() else {
                    return abort(.smtpUnexpectedReply(reply, awaiting: "AUTH"), sendQuit: true)
                }
                state = .authenticating(exchange)
                return send([answer], timer(.auth))
            }
            return abortOnRefusal(reply, awaiting: "AUTH") { .smtpAuthenticationFailed($0, mechanism: exchange.mechanism) }
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
        let (command, exchange) = SMTPAuthExchange.start(mechanism: mechanism, credentials: credentials)
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
            if case .dataTermination = transaction.step {
                // A definite refusal of the message, not an unknown outcome.
                let failure = SMTPSendFailure(
                    error: .smtpServiceClosing(reply, phase: .data),
                    phase: .data,
                    recipients: transaction.recipients
                )
                state = .closed
                armedTimer = nil
                return .close(.transaction(.notSent(failure)), sendQuit: false)
            }
            return abort(.smtpServiceClosing(reply, phase: phase))
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
            if transaction.pipelined { return .armTimer(arm(timer(.rcpt))) }
            return send([rcptCommand(0, transaction)], timer(.rcpt))

        case .rcpt(let index):
            guard !reply.isPositiveIntermediate else {
                return abort(.smtpUnexpectedReply(reply, awaiting: "RCPT TO"))
            }
            transaction.recipients.append(SMTPRecipientResult(address: recipients[index], reply: reply.reply))
            if index + 1 < recipients.count {
                transaction.step = .rcpt(index + 1)
                state = .transaction(transaction)
                if transaction.pipelined { return .armTimer(arm(timer(.rcpt))) }
                return send([rcptCommand(index + 1, transaction)], timer(.rcpt))
            }
            if transaction.pipelined {
                // DATA's reply is next; it decides.
                transaction.step = .dataInitiation
                state = .transaction(transaction)
                return .armTimer(arm(timer(.dataInitiation)))
            }
            guard transaction.anyRecipientAccepted else {
                return transactionFailed(transaction, recipientsRejected(transaction), repliesStillDue: 0)
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
                transaction.step = .body
                state = .transaction(transaction)
                return .streamBody(arm: arm(timer(.dataBlock)))
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
            if reply.isTransientFailure || reply.isPermanentFailure {
                return abort(.smtpMessageRejected(reply))
            }
            return abort(.smtpUnexpectedReply(reply, awaiting: "the message data"))

        case .dataTermination:
            if reply.isPositiveCompletion {
                messagesSent += 1
                state = .ready
                return complete(.transaction(.sent(SMTPDelivery(reply: reply.reply, recipients: transaction.recipients))))
            }
            if reply.isTransientFailure || reply.isPermanentFailure {
                // The transaction is over either way (RFC 5321 §4.1.1.4); no RSET needed.
                state = .ready
                let failure = SMTPSendFailure(error: .smtpMessageRejected(reply), phase: .data, recipients: transaction.recipients)
                return complete(.transaction(.notSent(failure)))
            }
            return abort(.smtpUnexpectedReply(reply, awaiting: "the end of the message"))

        case .draining(let remaining, let failure):
            if remaining == 1 && reply.code == 354 {
                transaction.step = .abortingData(failure: failure)
                state = .transaction(transaction)
                return send([.endOfData], timer(.dataTermination))
            }
            if remaining > 1 {
                transaction.step = .draining(remaining: remaining - 1, failure: failure)
                state = .transaction(transaction)
                return .armTimer(arm(timer(.rcpt)))
            }
            return resetAfter(.notSent(failure))

        case .abortingData(let failure):
            return resetAfter(.notSent(failure))
        }
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
            return .armTimer(arm(timer(.rcpt)))
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
            switch transaction.step {
            case .dataTermination:
                let failure = SMTPSendFailure(error: .smtpOutcomeUnknown(cause: error), phase: .data, recipients: transaction.recipients)
                completion = .transaction(.mayHaveBeenSent(failure))
            case .draining(_, let failure), .abortingData(let failure):
                completion = .transaction(.notSent(failure))
            case .mail, .rcpt, .dataInitiation, .body:
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
