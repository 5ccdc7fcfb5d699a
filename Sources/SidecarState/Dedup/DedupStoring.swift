import FoundationEssentials

/// Where duplicate-suppression records live, as the daemon's sends use them: the state
/// database of one host (``DedupStore``, SQLite) or a database a fleet of hosts shares
/// (`PostgresDedupStore`). Both keep the same promise, checked by one contract suite:
/// of identical sends within the window, one sends and the others get its result; a send
/// whose sender died after its transaction began is "may have been sent"
/// (``DedupResolution/abandoned(since:)``), never sent again within the window.
///
/// The life of a key is ``DedupStore``'s: ``begin(key:window:deadline:)``, then
/// ``markPending(_:)`` when the SMTP transaction begins (the message's content waits for
/// it), then ``complete(_:resultJSON:countsAsSent:)`` or ``completeLater(_:resultJSON:countsAsSent:onFailure:)``.
public protocol DedupStoring: Sendable {
    /// Decides whether a request with `key` sends, waiting out an identical send in
    /// progress (here or, with a shared store, on another host) until `deadline`.
    /// `window` ≤ 0 disables dedup: it proceeds and writes nothing.
    func begin(key: String, window: Duration, deadline: ContinuousClock.Instant?) async throws -> DedupResolution
    /// Like ``begin(key:window:deadline:)``, but a store may answer `proceed` without
    /// asking its database, leaving the claim to ``markPending(_:)``: the send then learns
    /// only at its mark that an identical send (on another host) holds the key, and must
    /// then call ``begin(key:window:deadline:)`` to wait for that send's result. For a
    /// caller that loses nothing by finding out late (no rate limit counted meanwhile).
    /// By default the same as ``begin(key:window:deadline:)``.
    func beginOptimistically(key: String, window: Duration, deadline: ContinuousClock.Instant?) async throws
        -> DedupResolution

    /// Writes the record "may have been sent", durably. Returns false when the key is no
    /// longer the ticket's: the send must not go out.
    func markPending(_ ticket: DedupTicket) async throws -> Bool

    /// Records the send's outcome: `countsAsSent` (`sent`, `outcome_unknown`) stores
    /// `resultJSON` for duplicates; false frees the key. Wakes waiting duplicates.
    @discardableResult
    func complete(_ ticket: DedupTicket, resultJSON: String, countsAsSent: Bool) async throws -> Bool

    /// ``complete(_:resultJSON:countsAsSent:)`` without waiting for it; a failure is told
    /// to `onFailure`, and the outcome is kept in memory for this process's waiters.
    func completeLater(
        _ ticket: DedupTicket, resultJSON: String, countsAsSent: Bool, onFailure: @escaping @Sendable (any Error) -> Void)

    /// Deletes records past their window. Returns how many.
    @discardableResult
    func purgeExpired(now: Date) async throws -> Int

    /// Returns once the outcomes queued by ``completeLater(_:resultJSON:countsAsSent:onFailure:)``
    /// before it have been written (or have failed).
    func flush() async
}

extension DedupStoring {
    public func beginOptimistically(key: String, window: Duration, deadline: ContinuousClock.Instant?) async throws
        -> DedupResolution
    {
        try await begin(key: key, window: window, deadline: deadline)
    }
}

extension DedupStore: DedupStoring {}
