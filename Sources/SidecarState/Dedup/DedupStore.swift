import FoundationEssentials
import SidecarCore
import Synchronization

/// Duplicate suppression for sends: "the same email again within the window returns the
/// earlier result instead of sending twice". Records live in the ``StateDatabase`` and so
/// survive restarts.
///
/// ## Life of a key
/// ``begin(key:window:deadline:)`` decides from the stored record and, when the caller may
/// send, reserves the key in this process's memory and answers
/// ``DedupResolution/proceed(_:)``. When the send's SMTP transaction begins (its connection
/// in hand, MAIL FROM on its way or about to be) the caller calls ``markPending(_:)``,
/// which writes the `pending` record, synced to disk, and sends the message's content only
/// after it returned: from then on the email may have left. When the send ends, the
/// caller calls ``complete(_:resultJSON:countsAsSent:)``:
/// - an outcome that counts as sent (`sent`, and `outcome_unknown` — it may have been
///   delivered) turns the record `done` with the result JSON, replayed to duplicates until
///   it expires `window` after the first `begin`;
/// - `not_sent` deletes the record (or, before ``markPending(_:)``, only the reservation),
///   so a retry sends.
///
/// A second identical request while the first is reserved or `pending` waits for the
/// first to finish, woken in-process, or by polling the database when another process
/// wrote the record, until its own deadline.
///
/// ## Why the reservation is not written (decision)
/// Until its transaction begins a send has sent nothing, so a crash before then must leave
/// nothing that holds the key back, and nothing on disk is needed to say so. Writing the
/// reservation cost the default send a third database transaction (a quarter more CPU per
/// send, measured). The reservation guards against an identical send of this process;
/// another process sharing the database sees the key only from `pending` on, and
/// ``markPending(_:)`` re-checks the stored record in the same transaction: when another
/// live process marked the key first, it answers false and the send does not go out (never
/// twice). Records written `reserved` by an earlier version are still understood.
///
/// ## A record whose sender died (decision)
/// After `kill -9` nobody can know whether the server accepted a message whose
/// transaction had begun. Such a `pending` record is treated as **"may have been sent"**:
/// within its window, identical requests get ``DedupResolution/abandoned(since:)``, which
/// the send operation reports as `outcome_unknown` (not retryable) — the same answer the
/// live request would have given had its connection dropped after DATA. Sending again
/// could deliver the email twice, which the one-hour promise exists to prevent; a caller
/// who knows better sends with a new idempotency key or a window of 0. After the window the
/// key is free. A `reserved` record of a dead sender (it was still waiting for a connection,
/// or still connecting) sent nothing: the next identical send proceeds.
///
/// A record's sender is dead when its owner process is known dead (Linux: boot id, pid and
/// start time in ``ProcessIdentity``, so a restarted daemon decides at once), or when the
/// record is older than `staleAfter` (default 10 minutes, longer than any send may take)
/// even if its owner still runs.
///
/// ## Durability
/// One `fsync` a send: the `pending` mark is a full commit (lost to a power cut, a retry
/// could send twice). The outcome commits without waiting for the disk: a lost outcome
/// leaves `pending`, which answers "may have been sent", never a second send.
///
/// ## An outcome that cannot be written
/// When ``complete(_:resultJSON:countsAsSent:)`` fails (the caller logs it), the outcome is
/// kept in memory for the record's window so that waiting and later identical sends in this
/// process are answered from it at once; other processes see the record as `pending`.
public final class DedupStore: Sendable {
    /// The default window: one hour.
    public static let defaultWindow: Duration = .seconds(3600)

    let database: StateDatabase
    let identity: ProcessIdentity
    let staleAfter: Duration
    let pollInterval: Duration
    let clock: @Sendable () -> Date
    let waiters = DedupWaiters()
    /// Outcomes that could not be written, by record token.
    private let unrecorded = Mutex<[String: UnrecordedOutcome]>([:])
    /// The keys this process's sends reserved and have not finished, by key.
    private let reservations = Mutex<[String: DedupReservation]>([:])

    /// - Parameters:
    ///   - staleAfter: age after which a record is given up even if its owner runs.
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

    // MARK: Synchronous API (the calling thread; tools and tests)

    /// Decides, atomically, whether a request with `key` sends, without waiting. `window` ≤ 0
    /// disables dedup for this request: it always proceeds and writes nothing.
    public func begin(key: String, window: Duration = DedupStore.defaultWindow, now: Date) throws -> DedupBegin {
        guard window > .zero else { return .proceed(DedupTicket(key: key, token: nil)) }
        let nowMs = now.millisecondsSince1970
        return try database.withConnection { connection in
            try self.reserve(key: key, nowMs: nowMs, window: window, connection)
        }
    }

    /// Writes the record of `ticket` "may have been sent", synced to disk. Call it when the
    /// send's transaction begins, and send the message's content only after it returned;
    /// again for the same ticket it writes nothing. Returns false when the key is no longer this ticket's (window 0: nothing to
    /// mark; its reservation was given up and taken over; or another process marked the
    /// key first), in which case a window > 0 send must not go out.
    @discardableResult
    public func markPending(_ ticket: DedupTicket) throws -> Bool {
        guard ticket.token != nil else { return false }
        return try database.withTransaction(synchronous: .full) { connection in
            try self.markPending(ticket, connection)
        }
    }

    /// Records the outcome of the send `ticket` allowed. `countsAsSent` true (`sent`,
    /// `outcome_unknown`) stores `resultJSON` for duplicates; false (`not_sent`) deletes the
    /// record so a retry sends. Wakes waiting duplicates, also when it fails (then from the
    /// outcome kept in memory). Returns false when the record was no longer this ticket's
    /// (window 0, or it was given up and replaced).
    @discardableResult
    public func complete(_ ticket: DedupTicket, resultJSON: String, countsAsSent: Bool) throws -> Bool {
        guard let token = ticket.token else { return false }
        defer { waiters.notify(key: ticket.key) }
        do {
            return try database.withTransaction(synchronous: .normal) { connection in
                try self.complete(ticket, token: token, resultJSON: resultJSON, countsAsSent: countsAsSent, connection)
            }
        } catch {
            remember(ticket, token: token, resultJSON: resultJSON, countsAsSent: countsAsSent)
            throw error
        }
    }

    /// The send did not go out (`not_sent`): forget the record so a retry sends.
    @discardableResult
    public func release(_ ticket: DedupTicket) throws -> Bool {
        try complete(ticket, resultJSON: "null", countsAsSent: false)
    }

    /// Deletes records past their window: finished ones, and unfinished ones that are stale.
    /// An unfinished record of a live send is kept even past its window. Returns how many.
    @discardableResult
    public func purgeExpired(now: Date) throws -> Int {
        let nowMs = now.millisecondsSince1970
        forgetUnrecorded(before: nowMs)
        let staleBeforeMs = nowMs.saturatingSubtracting(Int64(staleAfter.wholeMilliseconds))
        forgetReservations(before: staleBeforeMs)
        return try database.withTransaction { connection in
            try Self.purge(nowMs: nowMs, staleBeforeMs: staleBeforeMs, connection)
        }
    }

    // MARK: Transaction bodies, shared by both APIs

    /// Reads the record for `key`, decides, and reserves the key in memory when the caller
    /// may send. A reservation of this process older than `staleAfter` is given up, as a
    /// stored record would be.
    func reserve(key: String, nowMs: Int64, window: Duration, _ connection: SQLiteConnection) throws -> DedupBegin {
        let expiresMs = nowMs.saturatingAdding(Int64(window.wholeMilliseconds))
        let staleBeforeMs = nowMs.saturatingSubtracting(Int64(staleAfter.wholeMilliseconds))
        if reservations.withLock({ $0[key].map { $0.createdMs > staleBeforeMs } ?? false }) {
            return .inProgress
        }
        let stored = try Self.read(key: key, connection)
        switch decide(stored, nowMs: nowMs) {
        case .proceed:
            let token = DedupTicket.newToken()
            let reservation = DedupReservation(token: token, createdMs: nowMs)
            let reserved = reservations.withLock { reservations -> Bool in
                if let held = reservations[key], held.createdMs > staleBeforeMs { return false }
                reservations[key] = reservation
                return true
            }
            guard reserved else { return .inProgress }
            if let stored { unrecorded.withLock { _ = $0.removeValue(forKey: stored.token) } }
            return .proceed(DedupTicket(key: key, token: token, createdMs: nowMs, expiresMs: expiresMs))
        case .duplicate(let resultJSON):
            return .duplicate(resultJSON: resultJSON)
        case .inProgress:
            return .inProgress
        case .abandoned(let createdMs):
            return .abandoned(since: Date(millisecondsSince1970: createdMs))
        }
    }

    /// What a stored record means now, with an outcome kept in memory for it applied.
    private func decide(_ stored: DedupRecord?, nowMs: Int64) -> DedupDecision {
        var record = stored
        if let stored, let outcome = unrecorded.withLock({ $0[stored.token] }) {
            // Its send finished but its outcome could not be written: answer from memory.
            if outcome.countsAsSent {
                record?.state = .done
                record?.resultJSON = outcome.resultJSON
            } else {
                record = nil
            }
        }
        let identity = identity
        let ownerIsAlive: Bool? = record.flatMap { record in
            record.owner == identity.owner ? true : ProcessIdentity.isAlive(owner: record.owner)
        }
        return DedupDecision.decide(
            record: record, nowMs: nowMs, staleAfterMs: Int64(staleAfter.wholeMilliseconds), ownerIsAlive: ownerIsAlive
        )
    }

    /// Writes `ticket`'s `pending` record, unless the key is no longer its own.
    func markPending(_ ticket: DedupTicket, _ connection: SQLiteConnection) throws -> Bool {
        guard let token = ticket.token else { return false }
        let held = reservations.withLock { reservations -> Bool in
            guard reservations[ticket.key]?.token == token else { return false }
            reservations[ticket.key]?.isPending = true
            return true
        }
        guard held else { return false }
        let stored = try Self.read(key: ticket.key, connection)
        if let stored, stored.token == token { return stored.state == .pending }
        guard try write(ticket, token: token, state: .pending, resultJSON: nil, over: stored, connection) else {
            reservations.withLock { reservations in
                if reservations[ticket.key]?.token == token { reservations[ticket.key] = nil }
            }
            return false
        }
        return true
    }

    /// Records the outcome of `ticket`'s send and ends its reservation. Returns whether the
    /// key was still the ticket's.
    func complete(
        _ ticket: DedupTicket, token: String, resultJSON: String, countsAsSent: Bool, _ connection: SQLiteConnection
    ) throws -> Bool {
        let reservation = reservations.withLock { reservations -> DedupReservation? in
            guard let held = reservations[ticket.key], held.token == token else { return nil }
            reservations[ticket.key] = nil
            return held
        }
        if try Self.complete(key: ticket.key, token: token, resultJSON: resultJSON, countsAsSent: countsAsSent, connection) {
            return true
        }
        // A ticket whose pending record is gone was taken over; one without a reservation
        // was finished already or given up.
        guard let reservation, !reservation.isPending else { return false }
        // Never marked pending: a send that did not go out had only its reservation; one
        // that counts as sent anyway (a caller that does not mark) is written now, unless
        // another record holds the key.
        guard countsAsSent else { return true }
        let stored = try Self.read(key: ticket.key, connection)
        return try write(ticket, token: token, state: .done, resultJSON: resultJSON, over: stored, connection)
    }

    /// Writes `ticket`'s record in `state`, replacing `stored` (the key's record now) only
    /// where a begin now would: a record another process wrote since this one's begin, or
    /// an older one still live, holds the key and nothing is written. Returns whether it
    /// wrote.
    private func write(
        _ ticket: DedupTicket, token: String, state: DedupRecord.State, resultJSON: String?, over stored: DedupRecord?,
        _ connection: SQLiteConnection
    ) throws -> Bool {
        if let stored, stored.token != token {
            let nowMs = max(clock().millisecondsSince1970, ticket.createdMs)
            guard case .proceed = decide(stored, nowMs: nowMs) else { return false }
        }
        try connection.run(
            """
            INSERT OR REPLACE INTO dedup (key, state, result_json, created_ms, expires_ms, owner, token)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(ticket.key), .text(state.rawValue), resultJSON.map(SQLiteValue.text) ?? .null,
                .integer(ticket.createdMs), .integer(ticket.expiresMs), .text(identity.owner), .text(token),
            ]
        )
        return true
    }

    func forgetReservations(before staleBeforeMs: Int64) {
        reservations.withLock { reservations in
            reservations = reservations.filter { $0.value.createdMs > staleBeforeMs }
        }
    }

    static func complete(
        key: String, token: String, resultJSON: String, countsAsSent: Bool, _ connection: SQLiteConnection
    ) throws -> Bool {
        if countsAsSent {
            return try connection.run(
                """
                UPDATE dedup SET state = 'done', result_json = ?
                WHERE key = ? AND token = ? AND state IN ('reserved', 'pending')
                """,
                [.text(resultJSON), .text(key), .text(token)]
            ) == 1
        }
        return try connection.run("DELETE FROM dedup WHERE key = ? AND token = ?", [.text(key), .text(token)]) == 1
    }

    static func purge(nowMs: Int64, staleBeforeMs: Int64, _ connection: SQLiteConnection) throws -> Int {
        try connection.run(
            "DELETE FROM dedup WHERE expires_ms <= ? AND (state = 'done' OR created_ms <= ?)",
            [.integer(nowMs), .integer(staleBeforeMs)]
        )
    }

    func remember(_ ticket: DedupTicket, token: String, resultJSON: String, countsAsSent: Bool) {
        let outcome = UnrecordedOutcome(countsAsSent: countsAsSent, resultJSON: resultJSON, expiresMs: ticket.expiresMs)
        unrecorded.withLock { $0[token] = outcome }
    }

    func forgetUnrecorded(before nowMs: Int64) {
        unrecorded.withLock { unrecorded in
            unrecorded = unrecorded.filter { $0.value.expiresMs > nowMs }
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
