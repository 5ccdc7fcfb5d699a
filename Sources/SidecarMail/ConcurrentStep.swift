import SidecarCore
import SidecarSMTP

/// A send's ``BeforeTransaction`` step, started once its connection is in hand and run
/// while the envelope goes to the server: the connection awaits it (``gate``) only before
/// the message's content leaves, so its latency (the dedup mark's `fsync` and two thread
/// hand-overs) hides behind the server's reading of MAIL and RCPT instead of adding to
/// every send. ``PooledTransport`` runs it so for a send alone; among other sends the
/// transaction awaits the step before its first write instead.
struct ConcurrentStep: Sendable {
    private let task: Task<Void, any Error>

    /// Starts `step` now.
    init(_ step: @escaping BeforeTransaction) {
        task = Task { try await step() }
    }

    /// Waits for the step; throws its error.
    var gate: SMTPContentGate {
        { [task] () async throws(SidecarError) in
            do {
                try await task.value
            } catch {
                throw (error as? SidecarError)
                    ?? SidecarError(code: .internalError, message: "A step before the message could leave failed.")
            }
        }
    }

    /// Waits for the step to end, whatever its outcome (a failed step logs its own error).
    /// Every attempt settles its step before it returns, so that the step's database write
    /// is queued before the send's outcome is recorded, also when the transaction ended
    /// without reaching the message.
    func settle() async {
        _ = await task.result
    }
}
