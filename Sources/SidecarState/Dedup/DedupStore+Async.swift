import FoundationEssentials
import SidecarCore

/// The daemon's API: every call runs on the database's own thread (see ``StateDatabase``).
extension DedupStore {
    /// Decides whether a request with `key` sends, waiting out an identical send in
    /// progress: the second of two identical concurrent requests returns the first's result
    /// (or proceeds, if the first did not send). With a `deadline`, a wait that reaches it
    /// returns ``DedupResolution/inProgressAtDeadline``. `window` ≤ 0 disables dedup: it
    /// proceeds and writes nothing. Throws `CancellationError` when the task is cancelled.
    public func begin(
        key: String, window: Duration = DedupStore.defaultWindow, deadline: ContinuousClock.Instant? = nil
    ) async throws -> DedupResolution {
        guard window > .zero else { return .proceed(DedupTicket(key: key, token: nil)) }
        while true {
            try Task.checkCancellation()
            let generation = waiters.generation
            let nowMs = clock().millisecondsSince1970
            // Only reads (the reservation is in memory): no transaction, no commit.
            let decision = try await database.read { connection in
                try self.reserve(key: key, nowMs: nowMs, window: window, connection)
            }
            switch decision {
            case .proceed(let ticket):
                return .proceed(ticket)
            case .duplicate(let resultJSON):
                return .duplicate(resultJSON: resultJSON)
            case .abandoned(let since):
                return .abandoned(since: since)
            case .inProgress:
                var timeout = pollInterval
                if let deadline {
                    let left = ContinuousClock.now.duration(to: deadline)
                    guard left > .zero else { return .inProgressAtDeadline }
                    timeout = min(timeout, left)
                }
                await waiters.wait(key: key, since: generation, timeout: timeout)
            }
        }
    }

    /// ``markPending(_:)``, on the database's thread.
    @discardableResult
    public func markPending(_ ticket: DedupTicket) async throws -> Bool {
        guard ticket.token != nil else { return false }
        return try await database.transaction(synchronous: .full) { connection in
            try self.markPending(ticket, connection)
        }
    }

    /// ``complete(_:resultJSON:countsAsSent:)``, on the database's thread. When it throws,
    /// the outcome is kept in memory and waiters are answered from it.
    @discardableResult
    public func complete(_ ticket: DedupTicket, resultJSON: String, countsAsSent: Bool) async throws -> Bool {
        guard let token = ticket.token else { return false }
        defer { waiters.notify(key: ticket.key) }
        do {
            return try await database.transaction(synchronous: .normal) { connection in
                try self.complete(ticket, token: token, resultJSON: resultJSON, countsAsSent: countsAsSent, connection)
            }
        } catch {
            remember(ticket, token: token, resultJSON: resultJSON, countsAsSent: countsAsSent)
            throw error
        }
    }

    /// Queues ``complete(_:resultJSON:countsAsSent:)`` on the database's thread without
    /// waiting for it: the send's answer need not wait for a commit that does not wait for
    /// the disk. Requests queued after this call in this process see the outcome (the
    /// database's work runs in order), and waiters are woken once it is committed. When it
    /// fails, `onFailure` hears why and the outcome is kept in memory for the waiters.
    public func completeLater(
        _ ticket: DedupTicket, resultJSON: String, countsAsSent: Bool, onFailure: @escaping @Sendable (any Error) -> Void
    ) {
        guard let token = ticket.token else { return }
        database.submit(synchronous: .normal) { connection in
            try self.complete(ticket, token: token, resultJSON: resultJSON, countsAsSent: countsAsSent, connection)
        } completion: { result in
            if case .failure(let error) = result {
                self.remember(ticket, token: token, resultJSON: resultJSON, countsAsSent: countsAsSent)
                onFailure(error)
            }
            self.waiters.notify(key: ticket.key)
        }
    }

    /// Returns once everything queued before it has been committed (or has failed).
    public func flush() async {
        _ = try? await database.transaction(synchronous: .normal) { _ in () }
    }

    /// ``purgeExpired(now:)``, on the database's thread.
    @discardableResult
    public func purgeExpired(now: Date) async throws -> Int {
        let nowMs = now.millisecondsSince1970
        forgetUnrecorded(before: nowMs)
        let staleBeforeMs = nowMs.saturatingSubtracting(Int64(staleAfter.wholeMilliseconds))
        forgetReservations(before: staleBeforeMs)
        return try await database.transaction { connection in
            try Self.purge(nowMs: nowMs, staleBeforeMs: staleBeforeMs, connection)
        }
    }
}
