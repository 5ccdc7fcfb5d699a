import NIOCore
import SidecarCore
import SidecarMessage
import SidecarPool
import SidecarSMTP
import Synchronization

@testable import SidecarMail

/// Makes ``FakeSMTPSession``s for a real ``ConnectionPool``, so that ``PooledTransport``'s
/// rules run against scripted servers. Every send, on whichever session, takes the next
/// scripted ``Answer`` (``Answer/sent`` once the script is used up).
final class FakeSMTPSessionFactory: PoolConnectionFactory {
    typealias Key = SMTPPoolKey
    typealias Connection = FakeSMTPSession
    typealias Context = SMTPDestination

    /// What the server does with one transaction.
    struct Answer: Sendable {
        var result: SMTPSendResult
        /// Whether the session may serve another send after it.
        var leavesUsable: Bool
        /// Whether the session saw an error reply (the pool then retires it).
        var errorReply: Bool

        /// 250 after the message, every recipient accepted.
        static let sent = Answer(result: .sent(SMTPDelivery(reply: ok, recipients: [])), leavesUsable: true, errorReply: false)

        /// The connection was lost at `phase` (a server that closed an idle session).
        static func dropped(at phase: SMTPPhase, recipients: [SMTPRecipientResult] = []) -> Answer {
            Answer(
                result: .notSent(SMTPSendFailure(
                    error: SidecarError(code: .connectionFailed, message: "Connection closed.", retryable: true),
                    phase: phase, recipients: recipients)),
                leavesUsable: false, errorReply: false)
        }

        /// The server replied `reply` at `phase` and took nothing.
        static func refused(_ code: ErrorCode, _ reply: SMTPReply, at phase: SMTPPhase) -> Answer {
            Answer(
                result: .notSent(SMTPSendFailure(
                    error: SidecarError(code: code, message: reply.text, retryable: reply.isTransientFailure, smtp: reply),
                    phase: phase)),
                leavesUsable: reply.code != 421, errorReply: true)
        }

        static let ok = SMTPReply(code: 250, enhancedCode: "2.0.0", text: "queued")
    }

    /// One transaction on one session.
    struct Transaction: Sendable, Hashable {
        var session: Int
        /// Whether the message's content was let out (its gate passed) and reached the server.
        var delivered: Bool
    }

    struct Close: Sendable, Hashable {
        var session: Int
        var gracefully: Bool
    }

    private struct State {
        var script: [Answer]
        var made = 0
        var transactions: [Transaction] = []
        var resets: [Int] = []
        var closes: [Close] = []
        var resetFailures = 0
        var creationFailures: [SMTPFailure] = []
        var gateFirsts: [Bool] = []
    }

    private let state: Mutex<State>

    init(_ script: [Answer] = []) {
        state = Mutex(State(script: script))
    }

    /// Sessions made so far.
    var made: Int { state.withLock { $0.made } }
    var transactions: [Transaction] { state.withLock { $0.transactions } }
    var deliveries: Int { state.withLock { $0.transactions.filter(\.delivered).count } }
    /// The sessions that got an RSET, in order.
    var resets: [Int] { state.withLock { $0.resets } }
    var closes: [Close] { state.withLock { $0.closes } }
    /// For each send given a gate, in order: whether it was to await the gate before
    /// writing anything.
    var gateFirsts: [Bool] { state.withLock { $0.gateFirsts } }

    /// The next `count` RSET checks time out.
    func failNextResets(_ count: Int) { state.withLock { $0.resetFailures = count } }

    /// The next sessions to be made fail with these, in order (a server that refuses at
    /// its greeting, say).
    func failNextCreations(_ failures: [SMTPFailure]) { state.withLock { $0.creationFailures.append(contentsOf: failures) } }

    func script(_ answers: [Answer]) { state.withLock { $0.script.append(contentsOf: answers) } }

    func makeConnection(for key: SMTPPoolKey, context: SMTPDestination) async throws -> FakeSMTPSession {
        let made = state.withLock { state -> Result<Int, SMTPFailure> in
            if !state.creationFailures.isEmpty { return .failure(state.creationFailures.removeFirst()) }
            state.made += 1
            return .success(state.made)
        }
        return FakeSMTPSession(serial: try made.get(), factory: self)
    }

    func close(_ connection: FakeSMTPSession, gracefully: Bool) async {
        state.withLock { $0.closes.append(Close(session: connection.serial, gracefully: gracefully)) }
    }

    fileprivate func nextAnswer() -> Answer {
        state.withLock { $0.script.isEmpty ? Answer.sent : $0.script.removeFirst() }
    }

    fileprivate func record(gateFirst: Bool) {
        state.withLock { $0.gateFirsts.append(gateFirst) }
    }

    fileprivate func record(_ transaction: Transaction) {
        state.withLock { $0.transactions.append(transaction) }
    }

    fileprivate func reset(session: Int) -> Bool {
        state.withLock { state in
            state.resets.append(session)
            guard state.resetFailures > 0 else { return true }
            state.resetFailures -= 1
            return false
        }
    }
}

/// One scripted SMTP session. Like ``SMTPConnection``, it awaits the send's content gate only
/// when the transaction reaches the message, and a gate that throws ends the send `not_sent`
/// (phase `data`) with nothing delivered and the session unusable; or, told `gateFirst`,
/// before anything, and a gate that throws then ends it `not_sent` (phase `mail`) with the
/// session as it was.
final class FakeSMTPSession: PooledSMTPSession {
    let serial: Int
    private let factory: FakeSMTPSessionFactory
    private let status = Mutex((usable: true, errorReplies: 0, transactions: 0))

    fileprivate init(serial: Int, factory: FakeSMTPSessionFactory) {
        self.serial = serial
        self.factory = factory
    }

    func reset(deadline: NIODeadline?) async throws(SidecarError) {
        guard factory.reset(session: serial) else {
            status.withLock { $0.usable = false }
            throw SidecarError(code: .requestTimeout, message: "RSET was not answered.", retryable: true)
        }
    }

    func send(
        _ message: ComposedMessage, recipients: [String]?, options: SMTPSendOptions, deadline: NIODeadline?,
        beforeContent: SMTPContentGate?, gateFirst: Bool
    ) async -> SMTPSendResult {
        if beforeContent != nil { factory.record(gateFirst: gateFirst) }
        if gateFirst, let beforeContent {
            // Awaited before anything is written: a shut gate leaves the session as it was,
            // and the server saw no transaction.
            do {
                try await beforeContent()
            } catch {
                return .notSent(SMTPSendFailure(error: error, phase: .mail))
            }
        }
        let beforeContent = gateFirst ? nil : beforeContent
        var answer = factory.nextAnswer()
        status.withLock { $0.transactions += 1 }
        let accepted = (recipients ?? message.envelope.recipients).map {
            SMTPRecipientResult(address: $0, reply: SMTPReply(code: 250, enhancedCode: "2.1.5", text: "OK"))
        }
        var reachesContent = false
        switch answer.result {
        case .sent:
            answer.result = .sent(SMTPDelivery(reply: FakeSMTPSessionFactory.Answer.ok, recipients: accepted))
            reachesContent = true
        case .mayHaveBeenSent:
            reachesContent = true
        case .notSent:
            break
        }
        if reachesContent, let beforeContent {
            do {
                try await beforeContent()
            } catch {
                status.withLock { $0.usable = false }
                factory.record(FakeSMTPSessionFactory.Transaction(session: serial, delivered: false))
                return .notSent(SMTPSendFailure(error: error, phase: .data, recipients: accepted))
            }
        }
        status.withLock { status in
            if !answer.leavesUsable { status.usable = false }
            if answer.errorReply { status.errorReplies += 1 }
        }
        factory.record(FakeSMTPSessionFactory.Transaction(session: serial, delivered: reachesContent))
        return answer.result
    }

    var retirement: ConnectionRetirement {
        status.withLock {
            ConnectionRetirement(
                isUsable: $0.usable, errorReplies: $0.errorReplies, usedSMTPUTF8: false, transactionsStarted: $0.transactions,
                greeting: "fake.example.test ESMTP")
        }
    }
}
