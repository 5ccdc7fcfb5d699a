import FoundationEssentials
import SidecarCore
import Synchronization

/// The shell around ``CredentialHealth``: the send and verify paths record outcomes here
/// (one short lock, no I/O), and `credential_status` reads them.
final class CredentialHealthRecorder: Sendable {
    private let health = Mutex(CredentialHealth())
    private let now: @Sendable () -> Date

    init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    func succeeded(workspace: String, id: String) {
        let at = now()
        health.withLock { $0.succeeded(.init(workspace: workspace, id: id), at: at) }
    }

    func failed(workspace: String, id: String, error: SidecarError) {
        let at = now()
        health.withLock { $0.failed(.init(workspace: workspace, id: id), error: error, at: at) }
    }

    /// Every credential's entry. Given every credential stored now, forgets the others
    /// first (removed since their last send), so that the entries stay as many as the store's.
    func entries(everyStored: Set<CredentialHealth.Key>? = nil) -> [CredentialHealth.Key: CredentialHealth.Entry] {
        health.withLock { health in
            if let everyStored { health.keepOnly(everyStored) }
            return health.entries
        }
    }
}
