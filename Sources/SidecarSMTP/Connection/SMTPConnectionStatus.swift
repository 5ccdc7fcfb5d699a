import Synchronization

/// What ``SMTPConnection`` shows of its session to other threads, written by the handler
/// on the event loop after every event, and the one-operation-at-a-time guard.
final class SMTPConnectionStatus: Sendable {
    struct Snapshot: Sendable, Hashable {
        var isUsable = false
        var isSecure = false
        var messagesSent = 0
        var transactionsStarted = 0
        var errorReplies = 0
        var usedSMTPUTF8 = false
        var greeting = ""
        var busy = false
    }

    private let state = Mutex(Snapshot())

    var snapshot: Snapshot { state.withLock { $0 } }

    func update(_ machine: SMTPClientStateMachine) {
        state.withLock {
            $0.isUsable = machine.isUsable
            $0.isSecure = machine.isSecure
            $0.messagesSent = machine.messagesSent
            $0.transactionsStarted = machine.transactionsStarted
            $0.errorReplies = machine.errorReplies
            $0.usedSMTPUTF8 = machine.usedSMTPUTF8
            if $0.greeting != machine.greeting { $0.greeting = machine.greeting }
        }
    }

    /// Claims the connection for one operation; false when another one is running.
    func beginOperation() -> Bool {
        state.withLock {
            if $0.busy { return false }
            $0.busy = true
            return true
        }
    }

    func endOperation() {
        state.withLock { $0.busy = false }
    }
}
