import NIOCore
import SidecarCore

/// The types of the operations the shell waits on: which one is in flight, the promise
/// that answers it, the message in hand and the streamed body's progress. The events that
/// drive them are in `SMTPClientStateMachine.swift` (they change its private state).
extension SMTPClientStateMachine {
    /// What a transaction's promise is answered with.
    enum TransactionProgress: Sendable {
        /// Stream the message, framed for the transfer (dot-stuffed after DATA's 354; as it
        /// is after BDAT), then end it with ``SMTPClientStateMachine/bodyEnded(_:)``.
        case streamBody(MessageTransfer)
        case finished(SMTPSendResult)
    }

    /// The operation the shell waits on.
    ///
    /// States and what each can become:
    /// - `none`: nothing waits. → `connect` (the handler joined a pipeline), `transaction`,
    ///   `reset`.
    /// - `connect`: the session is being set up. → `none` once answered.
    /// - `transaction`: a message's transaction, not streaming (the commands, the message in
    ///   hand if `message`, or the reply after a streamed body). → `body` (the state machine
    ///   asked for the message to be streamed, which answers the promise), `none` once
    ///   answered.
    /// - `body`: the writer streams the message; `written` bytes so far. → `bodyWritten`
    ///   (BDAT: the announced size is out), `transaction` (the writer's end),
    ///   `bodyInterrupted`.
    /// - `bodyWritten`: BDAT: every announced byte is in the channel; the writer has yet to
    ///   say it is done, and the reply may come first. → `transaction`, `bodyInterrupted`.
    /// - `bodyInterrupted`: the transaction ended (a reply, a timeout, a lost connection)
    ///   while the writer streamed; its result waits for the writer's end. → `none`.
    /// - `reset`: RSET. → `none` once answered.
    enum PendingOperation: Sendable {
        case none
        case connect(EventLoopPromise<SMTPCapabilities>)
        case transaction(EventLoopPromise<TransactionProgress>, message: ByteBuffer?)
        case body(MessageTransfer, written: Int)
        case bodyWritten
        case bodyInterrupted(SMTPSendResult)
        case reset(EventLoopPromise<Void>)
    }

    /// A promise to complete, with its value.
    enum Answer: Sendable {
        case connect(EventLoopPromise<SMTPCapabilities>, Result<SMTPCapabilities, SMTPFailure>)
        case transaction(EventLoopPromise<TransactionProgress>, TransactionProgress)
        case reset(EventLoopPromise<Void>, Result<Void, SMTPFailure>)
    }

    /// What the shell does after an event: apply `action` (writing `message` with a
    /// ``Action/sendMessage(after:transfer:arm:)``), and complete `answer`'s promise where
    /// the action finishes the operation (else at once).
    struct Outcome: Sendable {
        var action: Action
        /// The message in hand, taken out for ``Action/sendMessage(after:transfer:arm:)``.
        var message: ByteBuffer?
        var answer: Answer?
        /// The action completed an operation nothing waits for (not expected; logged).
        var unanswered = false

        init(_ action: Action, answer: Answer? = nil) {
            self.action = action
            self.answer = answer
        }
    }

    /// What to do with a chunk the body writer offers.
    enum BodyChunkDecision: Sendable {
        /// Fail the writer's promise; then apply `then`, if any.
        case refuse(then: Outcome?)
        /// Arm `timer`, write the chunk with the writer's promise, then apply `then`, if any.
        case write(arm: SMTPTimer, then: Outcome?)
    }
}
