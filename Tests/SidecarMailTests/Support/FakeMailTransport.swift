import Logging
import NIOCore
import SidecarCore
import SidecarMessage
import SidecarSMTP
import Synchronization

@testable import SidecarMail

/// A transport without a network: each send gets the next scripted answer (``Answer/sent``
/// once the script is used up).
///
/// It keeps the ``MailTransport`` contract about the send's ``BeforeTransaction`` step: the
/// step runs first, and if it throws nothing is delivered and the send ends `not_sent`
/// (phase `data`) with the step's error.
final class FakeMailTransport: MailTransport {
    /// What the server does with one send.
    enum Answer: Sendable {
        /// 250 after the message, every recipient accepted.
        case sent
        /// Refused before the message went out.
        case notSent(SidecarError, phase: SMTPPhase)
        /// The message went out and no final reply came.
        case mayHaveBeenSent
    }

    /// One call of ``send(_:options:destination:route:deadline:beforeTransaction:logger:)``.
    struct Send: Sendable {
        var messageID: String
        var route: TransportRoute
        /// Whether the send brought a step to run before its message.
        var hadStep: Bool
        /// The step's error, if it threw.
        var stepError: SidecarError?
        /// Whether the message reached the (fake) server: `sent` or `mayHaveBeenSent`.
        var delivered: Bool
    }

    private struct State {
        var script: [Answer]
        var sends: [Send] = []
    }

    private let state: Mutex<State>
    /// Runs after the send's step and before its answer: what a test looks at while the
    /// message is in flight.
    private let inFlight: (@Sendable () async -> Void)?
    /// Runs before the send's step.
    private let beforeStep: (@Sendable () async -> Void)?

    init(
        _ script: [Answer] = [], beforeStep: (@Sendable () async -> Void)? = nil,
        inFlight: (@Sendable () async -> Void)? = nil
    ) {
        state = Mutex(State(script: script))
        self.beforeStep = beforeStep
        self.inFlight = inFlight
    }

    /// Every send so far, in order.
    var sends: [Send] { state.withLock { $0.sends } }
    /// The sends whose message reached the server.
    var deliveries: Int { state.withLock { $0.sends.filter(\.delivered).count } }

    func send(
        _ message: ComposedMessage, options: SMTPSendOptions, destination: SMTPDestination, route: TransportRoute,
        deadline: NIODeadline?, beforeTransaction: BeforeTransaction?, logger: Logger
    ) async -> TransportOutcome {
        let answer = state.withLock { $0.script.isEmpty ? Answer.sent : $0.script.removeFirst() }
        var record = Send(
            messageID: message.messageID, route: route, hadStep: beforeTransaction != nil, stepError: nil,
            delivered: false)
        await beforeStep?()
        if let beforeTransaction {
            do {
                try await beforeTransaction()
            } catch {
                record.stepError = error
                state.withLock { $0.sends.append(record) }
                return TransportOutcome(
                    result: .notSent(SMTPSendFailure(error: error, phase: .data)), connect: .zero, transaction: .zero)
            }
        }
        await inFlight?()
        let accepted = message.envelope.recipients.map {
            SMTPRecipientResult(address: $0, reply: SMTPReply(code: 250, enhancedCode: "2.1.5", text: "OK"))
        }
        let result: SMTPSendResult
        switch answer {
        case .sent:
            record.delivered = true
            result = .sent(SMTPDelivery(reply: SMTPReply(code: 250, enhancedCode: "2.0.0", text: "queued"), recipients: accepted))
        case .notSent(let error, let phase):
            result = .notSent(SMTPSendFailure(error: error, phase: phase))
        case .mayHaveBeenSent:
            record.delivered = true
            result = .mayHaveBeenSent(SMTPSendFailure(
                error: SidecarError(code: .outcomeUnknown, message: "No reply after the message."), phase: .data,
                recipients: accepted))
        }
        state.withLock { $0.sends.append(record) }
        return TransportOutcome(result: result, connect: .zero, transaction: .zero)
    }

    func verify(destination: SMTPDestination, deadline: NIODeadline?, logger: Logger) async throws(SMTPFailure)
        -> SMTPCapabilities
    {
        throw SMTPFailure(error: SidecarError(code: .internalError, message: "The fake transport does not verify."), phase: .connect)
    }
}
