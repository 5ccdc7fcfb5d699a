import SidecarSMTP
import Synchronization

/// How far the pooled connections being set up for each pool key have got: the answer to
/// "which phase was the server in" when a send's deadline passes while it waits for the
/// pool to open a connection (`request_timeout` names the phase, as it does without the
/// pool).
///
/// The pool rejects the waiter and cancels the creation together; the rejection can reach
/// the send before the creation has ended, or after. So an attempt that ended without a
/// connection keeps its phase for ``recentWindow``, and a successful one forgets it.
final class SMTPSetupProgress: Sendable {
    /// How long an ended attempt still answers for its key.
    static let recentWindow: Duration = .seconds(2)

    private struct Attempt {
        var key: SMTPPoolKey
        var phase: SMTPPhase
        var endedAt: ContinuousClock.Instant?
    }

    private let state = Mutex<(next: UInt64, attempts: [UInt64: Attempt])>((0, [:]))

    /// Registers an attempt for `key`, in phase `connect`; returns its token.
    func begin(key: SMTPPoolKey) -> UInt64 {
        state.withLock { state in
            let now = ContinuousClock.now
            state.attempts = state.attempts.filter { _, attempt in
                attempt.endedAt.map { now - $0 < Self.recentWindow } ?? true
            }
            state.next += 1
            state.attempts[state.next] = Attempt(key: key, phase: .connect, endedAt: nil)
            return state.next
        }
    }

    func advance(_ token: UInt64, to phase: SMTPPhase) {
        state.withLock { $0.attempts[token]?.phase = phase }
    }

    /// The attempt ended: with a connection (forgotten), or without one (kept a while).
    func end(_ token: UInt64, connected: Bool) {
        state.withLock { state in
            if connected {
                state.attempts[token] = nil
            } else {
                state.attempts[token]?.endedAt = .now
            }
        }
    }

    /// The phase of the newest attempt for `key` that is still going or ended without a
    /// connection within ``recentWindow``; nil when there is none.
    func phase(for key: SMTPPoolKey) -> SMTPPhase? {
        state.withLock { state in
            let now = ContinuousClock.now
            return state.attempts
                .filter { $0.value.key == key && ($0.value.endedAt.map { now - $0 < Self.recentWindow } ?? true) }
                .max { $0.key < $1.key }?.value.phase
        }
    }
}
