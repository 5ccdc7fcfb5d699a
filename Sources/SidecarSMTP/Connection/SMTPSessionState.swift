import Synchronization

/// An SMTP session's one state, ``SMTPClientStateMachine`` (the protocol, the operation in
/// flight with its promise, the streamed body's progress, the claim of the connection),
/// behind a lock so that ``SMTPConnection`` can answer status questions from any thread.
///
/// ``SMTPClientHandler`` applies each event under the lock on the event loop and carries
/// out what it returns after, outside the lock: a promise completed under it could run
/// code that reads the state again.
final class SMTPSessionState: Sendable {
    private let machine: Mutex<SMTPClientStateMachine>

    init(configuration: SMTPClientStateMachine.Configuration) {
        machine = Mutex(SMTPClientStateMachine(configuration: configuration))
    }

    /// Runs `body` on the state machine under the lock. `body` must not complete a promise
    /// or call out.
    func withLock<Result: Sendable>(_ body: (inout SMTPClientStateMachine) -> Result) -> Result {
        machine.withLock { body(&$0) }
    }

    /// A copy of the state machine as it is now.
    var snapshot: SMTPClientStateMachine { machine.withLock { $0 } }
}
