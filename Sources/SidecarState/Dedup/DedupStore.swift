import FoundationEssentials
import SidecarCore

/// Duplicate suppression for sends: "the same email again within the window returns the
/// earlier result instead of sending twice". Records live in the ``StateDatabase`` and so
/// survive restarts.
///
/// ## Life of a key
/// ``begin(key:window:now:)`` writes a `pending` record and answers ``DedupBegin/proceed(_:)``;
/// the caller sends, then calls ``complete(_:resultJSON:countsAsSent:)``:
/// - an outcome that counts as sent (`sent`, and `outcome_unknown` — it may have been
///   delivered) turns the record `done` with the result JSON, replayed to duplicates until
///   it expires `window` after the first `begin`;
/// - `not_sent` deletes the record, so a retry sends.
///
/// A second identical request while the first is `pending` gets ``DedupBegin/inProgress``;
/// the async ``begin(key:window:)`` waits for the first to finish, woken in-process, or by
/// polling the database when another process wrote the record.
///
/// ## A pending record whose sender died (decision)
/// After `kill -9` in the middle of a send nobody can know whether the server accepted
/// the message. We treat such a record as **"may have been sent"**: within its window,
/// identical requests get ``DedupBegin/abandoned(since:)``, which the send operation
/// reports as `outcome_unknown` (not retryable) — the same answer the live request would
/// have given had its connection dropped after DATA. Sending again could deliver the
/// email twice, which the one-hour promise exists to prevent; a caller who knows better
/// sends with a new idempotency key or a window of 0. After the window the key is free.
///
/// A record is abandoned when its owner process is known dead (Linux: boot id, pid and
/// start time in ``ProcessIdentity``, so a restarted daemon decides at once), or when it
/// is older than `staleAfter` (default 10 minutes, longer than any send may take) even if
/// its owner still runs.
public final class DedupStore: Sendable {
    /// The default window: one hour.
    public static let defaultWindow: Duration = .seconds(3600)

    private let database: StateDatabase
    private let identity: ProcessIdentity
    private let staleAfter: Duration
    private let pollInterval: Duration
    private let clock: @Sendable () -> Date
    private let waiters = DedupWaiters()

    /// - Parameters:
    ///   - staleAfter: age after which a `pending` record is abandoned even if its owner runs.
    ///   - pollInterval: how often a waiter re-reads a record written by another process.
    ///   - identity: the owner written into records; tests inject others.
    ///   - clock: the wall clock for the async API.
    public init(
        database: StateDatabase,
        staleAfter: Duration = .seconds(600),
        pollInterval: Duration = .milliseconds(200),
        identity: ProcessIdentity = .current,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.database = database
        self.staleAfter = staleAfter
        self.pollInterval = pollInterval
        self.identity = identity
        self.clock = clock
    }

    /// Decides, atomically, whether a request with `key` sends. `window` ≤ 0 disables dedup
    /// for this request: it always proceeds and writes nothing.
    public func begin(key: String, window: Duration = DedupStore.defaultWindow, now: Date) throws -> DedupBegin {
        guard window > .zero else { return .proceed(DedupTicket(key: key, token: nil)) }
        let nowMs = now.millisecondsSince1970
        let expiresMs = nowMs.saturatingAdding(window.milliseconds)
        let staleAfterMs = staleAfter.milliseconds
        let identity = identity
        return try database.withTransaction { connection -> DedupBegin in
            let record = try Self.read(key: key, connection)
            let ownerIsAlive: Bool? = record.flatMap { record in
                record.owner == identity.owner ? true : ProcessIdentity.isAlive(owner: record.owner)
            }
            let decision = DedupDecision.decide(
                record: record, nowMs: nowMs, staleAfterMs: staleAfterMs, ownerIsAlive: ownerIsAlive
            )
            switch decision {
            case .proceed:
                let token = UUID().uuidString.lowercased()
                try connection.run(
                    """
                    INSERT OR REPLACE INTO dedup (key, state, result_json, created_ms, expires_ms, owner, token)
                    VALUES (?, 'pending', NULL, ?, ?, ?, ?)
                    """,
                    [.text(key), .integer(nowMs), .integer(expiresMs), .text(identity.owner), .text(token)]
                )
                return .proceed(DedupTicket(key: key, token: token))
            case .duplicate(let resultJSON):
                return .duplicate(resultJSON: resultJSON)
            case .inProgress:
                return .inProgress
            case .abandoned(let createdMs):
                return .abandoned(since: Date(millisecondsSince1970: createdMs))
            }
        }
    }

    /// Records the outcome of the send `ticket` allowed. `countsAsSent` true (`sent`,
    /// `outcome_unknown`) stores `resultJSON` for duplicates; false (`not_sent`) deletes the
    /// record so a retry sends. Wakes waiting duplicates. Returns false when the record was
    /// no longer this ticket's (window 0, or it was abandoned and replaced).
    @discardableResult
    public func complete(_ ticket: DedupTicket, resultJSON: String, countsAsSent: Bool) throws -> Bool {
        guard let token = ticket.token else { return false }
        defer { waiters.notify(key: ticket.key) }
        // Not synced to disk at once: lost to an OS crash, the record stays `pending` and
        // answers "may have been sent" (outcome_unknown), never a second send.
        return try database.withTransaction(synchronous: .normal) { connection -> Bool in
            if countsAsSent {
                return try connection.run(
                    "UPDATE dedup SET state = 'done', result_json = ? WHERE key = ? AND token = ? AND state = 'pending'",
                    [.text(resultJSON), .text(ticket.key), .text(token)]
                ) == 1
            } else {
                return try connection.run("DELETE FROM dedup WHERE key = ? AND token = ?", [.text(ticket.key), .text(token)]) == 1
            }
        }
    }

    /// The send did not go out (`not_sent`): forget the record so a retry sends.
    @discardableResult
    public func release(_ ticket: DedupTicket) throws -> Bool {
        try complete(ticket, resultJSON: "null", countsAsSent: false)
    }

    /// Deletes records past their window: finished ones, and pending ones that are stale.
    /// A pending record of a live send is kept even past its window. Returns how many.
    @discardableResult
    public func purgeExpired(now: Date) throws -> Int {
        let nowMs = now.millisecondsSince1970
        let staleBeforeMs = nowMs.saturatingSubtracting(staleAfter.milliseconds)
        return try database.withTransaction { connection in
            try connection.run(
                "DELETE FROM dedup WHERE expires_ms <= ? AND (state = 'done' OR created_ms <= ?)",
                [.integer(nowMs), .integer(staleBeforeMs)]
            )
        }
    }

    private static func read(key: String, _ connection: SQLiteConnection) throws -> DedupRecord? {
        guard
            let row = try connection.queryFirst(
                "SELECT state, result_json, created_ms, expires_ms, owner, token FROM dedup WHERE key = ?", [.text(key)]
            )
        else { return nil }
        guard let state = DedupRecord.State(rawValue: try row.text(0)) else {
            throw SQLiteError(code: nil, context: "a dedup record has an unknown state")
        }
        return DedupRecord(
            key: key, state: state, resultJSON: try row.optionalText(1), createdMs: try row.int64(2),
            expiresMs: try row.int64(3), owner: try row.text(4), token: try row.text(5)
        )
    }
}

extension DedupStore {
    /// Like ``begin(key:window:now:)``, but waits out ``DedupBegin/inProgress``: the second of
    /// two identical concurrent requests returns the first's result (or proceeds, if the
    /// first did not send). Throws `CancellationError` when the task is cancelled.
    public func begin(key: String, window: Duration = DedupStore.defaultWindow) async throws -> DedupResolution {
        while true {
            try Task.checkCancellation()
            let generation = waiters.generation
            switch try begin(key: key, window: window, now: clock()) {
            case .proceed(let ticket):
                return .proceed(ticket)
            case .duplicate(let resultJSON):
                return .duplicate(resultJSON: resultJSON)
            case .abandoned(let since):
                return .abandoned(since: since)
            case .inProgress:
                await waiters.wait(key: key, since: generation, timeout: pollInterval)
            }
        }
    }
}
