import Synchronization

/// What ``SMTPConnection`` shows of its session to other threads, written by the handler
/// on the event loop after every event, and the one-operation-at-a-time guard.
final class SMTPConnectionStatus: Sendable {
    struct Snapshot: Sendable, Hashable {
        var isUsable = false
        var isSecure = false
        var messagesSent = 0
        var busy = false
    }

    private let state = Mutex(Snapshot())

    var snapshot: Snapshot { state.withLock { $0 } }

    func update(isUsable: Bool, isSecure: Bool, messagesSent: Int) {
        state.withLock {
            $0.isUsable = isUsable
            $0.isSecure = isSecure
            $0.messagesSent = messagesSent
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
