import Synchronization

/// In-process wake-ups for requests waiting on a `pending` dedup record.
///
/// A waiter remembers the ``generation`` before it reads the database; ``notify(key:)``
/// bumps it. Registering after a notification that was missed therefore returns at
/// once instead of sleeping, so no wake-up is lost between the read and the wait.
/// Every wait also ends after a timeout, which is how records written by another
/// process (which cannot notify us) are polled.
package final class DedupWaiters: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var nextID: UInt64 = 0
        var waiters: [UInt64: (key: String, continuation: CheckedContinuation<Void, Never>)] = [:]
        /// Timeouts that fired before their waiter registered.
        var firedEarly: Set<UInt64> = []
    }

    private let state = Mutex(State())

    package init() {}

    package var generation: UInt64 {
        state.withLock { $0.generation }
    }

    /// Wakes every waiter on `key`.
    package func notify(key: String) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.generation &+= 1
            let ids = state.waiters.filter { $0.value.key == key }.map(\.key)
            return ids.compactMap { state.waiters.removeValue(forKey: $0)?.continuation }
        }
        for continuation in woken { continuation.resume() }
    }

    /// Returns when `key` is notified, `timeout` passes, or the task is cancelled, or
    /// at once if anything was notified since `generation` was read.
    package func wait(key: String, since generation: UInt64, timeout: Duration) async {
        let id = state.withLock { state -> UInt64 in
            state.nextID &+= 1
            return state.nextID
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.fire(id)
            }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.generation != generation || state.firedEarly.remove(id) != nil { return true }
                    state.waiters[id] = (key, continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
            group.cancelAll()
        }
        state.withLock { _ = $0.firedEarly.remove(id) }
    }

    private func fire(_ id: UInt64) {
        let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiters.removeValue(forKey: id) { return waiter.continuation }
            state.firedEarly.insert(id)
            return nil
        }
        continuation?.resume()
    }
}
