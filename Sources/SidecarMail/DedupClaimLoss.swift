import Synchronization

/// Set by a send's `pending` mark when its optimistic claim lost: an identical send (on
/// another host) held the key, so this one sent nothing and waits for that one's result
/// instead of answering an error.
final class DedupClaimLoss: Sendable {
    private let lost = Atomic<Bool>(false)

    /// Whether the mark found the key held by another send.
    var isLost: Bool { lost.load(ordering: .acquiring) }

    func record() {
        lost.store(true, ordering: .releasing)
    }
}
