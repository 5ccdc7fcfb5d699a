import FoundationEssentials
import Logging
import PostgresNIO
import SidecarCore
import SidecarState
import Synchronization

/// Duplicate suppression shared by a fleet of hosts, in PostgreSQL: of identical sends
/// arriving at any hosts within the window, one sends and the others answer with its
/// result. The decision rule is the one-host store's (`DedupDecision`); what differs is how
/// a key is claimed and how a dead sender is recognised.
///
/// ## Claiming a key (decision)
/// `begin` claims the key in the database at once, with `INSERT … ON CONFLICT DO NOTHING`
/// (one round trip when the key is free): a second host's identical send finds the claim
/// and waits, instead of both preparing a send. A key whose record is finished and expired,
/// or whose owner died before its transaction began, is taken over by a compare-and-set on
/// the record's token, so of two hosts taking it over at once one wins. Never read, then
/// write unconditionally.
///
/// ``beginOptimistically(key:window:deadline:)`` (the daemon's default send, when no rate
/// limit is counted) claims nothing yet: ``markPending(_:)`` claims and marks in one
/// statement, the one that waits for the WAL flush, so such a send makes two statements
/// instead of three, and its first round trip to the database overlaps its SMTP envelope.
/// An identical send of another host found only there costs the late one its composed
/// message (nothing of it went out): its mark answers false, and the caller calls
/// `begin`, which waits for the other's result as above. Taken over keys are handled at the
/// mark too, by the same rule as `begin`'s. While the database is unavailable, the
/// optimistic begin is `begin` (refused at once, before any SMTP).
///
/// ## Leases (decision)
/// A host cannot see whether another host's process runs, so every record of a send in
/// progress carries `lease_until_ms`, which its owner renews every third of the lease
/// (``renewLeases()``, run by ``PostgresState/run(maintain:)``). A `reserved` record whose
/// lease ran out sent nothing: the key is free. A `pending` record whose lease ran out is
/// "may have been sent" (`outcome_unknown`) for the rest of its window, as after `kill -9`
/// on one host. A waiter on another host's send polls the record, backing off from 25 ms to
/// `pollInterval`; waiters on a send of this process are woken at once.
///
/// ## Outcomes that cannot be written
/// When the database is down as a send ends, its outcome is kept in memory (this host's
/// identical sends are answered from it) and written again by the maintenance loop once the
/// database answers, so that other hosts do not wait out the lease and answer `outcome_unknown`
/// for a send whose result is known.
public final class PostgresDedupStore: DedupStoring {
    let state: PostgresState
    /// This process's name in the records it owns: host name and a random id.
    let owner: String
    let staleAfter: Duration
    let pollInterval: Duration
    let clock: @Sendable () -> Date
    let waiters = DedupWaiters()
    /// The keys this process claimed and has not finished, and their tokens.
    private let held = Mutex<[String: String]>([:])
    /// Outcomes not yet written, by key.
    private let unwritten = Mutex<[String: Unwritten]>([:])
    /// The writes ``completeLater(_:resultJSON:countsAsSent:onFailure:)`` started, for ``flush()``.
    private let writing = Mutex<(next: Int, tasks: [Int: Task<Void, Never>])>((0, [:]))

    struct Unwritten: Sendable {
        var ticket: DedupTicket
        var resultJSON: String
        var countsAsSent: Bool
    }

    public init(
        state: PostgresState, owner: String = PostgresDedupStore.defaultOwner(), staleAfter: Duration = .seconds(600),
        pollInterval: Duration = .milliseconds(500), clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.state = state
        self.owner = owner
        self.staleAfter = staleAfter
        self.pollInterval = pollInterval
        self.clock = clock
    }

    /// `host:<host name>:<random>`: names this process in its records (and in the journal of
    /// another host that reports its interrupted send).
    public static func defaultOwner() -> String {
        "host:\(ProcessInfo.processInfo.hostName):\(UUID().uuidString.lowercased().prefix(8))"
    }

    private var table: String { state.tables.dedup }
    private var leaseMs: Int64 { Int64(state.configuration.lease.wholeMilliseconds) }

    // MARK: DedupStoring

    public func begin(key: String, window: Duration, deadline: ContinuousClock.Instant?) async throws -> DedupResolution {
        guard window > .zero else { return .proceed(DedupTicket(key: key, token: nil)) }
        var attempt = 0
        while true {
            try Task.checkCancellation()
            let generation = waiters.generation
            let answer = try await attemptBegin(key: key, window: window)
            switch answer {
            case .proceed(let ticket): return .proceed(ticket)
            case .duplicate(let json): return .duplicate(resultJSON: json)
            case .abandoned(let since): return .abandoned(since: since)
            case .inProgress: break
            }
            // Back off: 25 ms, 50, 100, … up to the poll interval.
            var timeout = min(.milliseconds(25) * (1 << min(attempt, 10)), pollInterval)
            attempt += 1
            if let deadline {
                let left = ContinuousClock.now.duration(to: deadline)
                guard left > .zero else { return .inProgressAtDeadline }
                timeout = min(timeout, left)
            }
            await waiters.wait(key: key, since: generation, timeout: timeout)
        }
    }

    public func beginOptimistically(key: String, window: Duration, deadline: ContinuousClock.Instant?) async throws
        -> DedupResolution
    {
        guard window > .zero else { return .proceed(DedupTicket(key: key, token: nil)) }
        // An identical send of this process, an outcome not yet written, or a database not
        // answering: the careful way.
        guard state.currentHealth.available, unwritten.withLock({ $0[key] == nil }) else {
            return try await begin(key: key, window: window, deadline: deadline)
        }
        let nowMs = clock().millisecondsSince1970
        let ticket = DedupTicket(
            key: key, token: DedupTicket.newToken(), createdMs: nowMs,
            expiresMs: nowMs.saturatingAdding(Int64(window.wholeMilliseconds)))
        let held = held.withLock { held -> Bool in
            guard held[key] == nil else { return false }
            held[key] = ticket.token
            return true
        }
        guard held else { return try await begin(key: key, window: window, deadline: deadline) }
        return .proceed(ticket)
    }

    /// One look at the key: claim it, or say why not.
    func attemptBegin(key: String, window: Duration) async throws -> DedupBegin {
        if held.withLock({ $0[key] != nil }) { return .inProgress }
        if let answer = try await fromUnwritten(key: key) { return answer }
        let nowMs = clock().millisecondsSince1970
        let token = DedupTicket.newToken()
        let expiresMs = nowMs.saturatingAdding(Int64(window.wholeMilliseconds))
        let leaseUntil = nowMs.saturatingAdding(leaseMs)
        let claim = ClaimStatement(
            key: key, createdMs: nowMs, expiresMs: expiresMs, owner: owner, token: token, leaseUntilMs: leaseUntil)
        let claimed = try await state.operation {
            try await claim.run(on: self.state.fastClient, tables: self.state.tables, logger: self.state.logger)
        }
        let ticket = DedupTicket(key: key, token: token, createdMs: nowMs, expiresMs: expiresMs)
        if claimed { return hold(ticket) }

        guard let stored = try await read(key: key) else { return .inProgress }  // gone meanwhile: look again at once
        switch decide(stored, nowMs: nowMs) {
        case .proceed:
            let taken = try await takeOver(
                from: stored.record.token, for: ticket, token: token, as: .reserved, leaseUntilMs: leaseUntil,
                on: state.fastClient)
            return taken ? hold(ticket) : .inProgress
        case .duplicate(let json):
            return .duplicate(resultJSON: json)
        case .inProgress:
            return .inProgress
        case .abandoned(let createdMs):
            state.logger.warning("An identical send on another host was interrupted; it may have been delivered", metadata: [
                "dedup_owner": "\(stored.record.owner)",
            ])
            return .abandoned(since: Date(millisecondsSince1970: createdMs))
        }
    }

    private func hold(_ ticket: DedupTicket) -> DedupBegin {
        held.withLock { $0[ticket.key] = ticket.token }
        return .proceed(ticket)
    }

    /// An outcome of this process not yet written answers for its key: replayed when it
    /// counts as sent; otherwise its record is deleted now (or the key waits).
    private func fromUnwritten(key: String) async throws -> DedupBegin? {
        guard let pending = unwritten.withLock({ $0[key] }) else { return nil }
        if clock().millisecondsSince1970 >= pending.ticket.expiresMs {
            unwritten.withLock { _ = $0.removeValue(forKey: key) }
            return nil
        }
        if pending.countsAsSent { return .duplicate(resultJSON: pending.resultJSON) }
        try await write(pending)
        return nil
    }

    public func markPending(_ ticket: DedupTicket) async throws -> Bool {
        guard let token = ticket.token else { return false }
        let marked = try await mark(ticket, token: token)
        if !marked {
            release(ticket)
            waiters.notify(key: ticket.key)
        }
        return marked
    }

    /// Claims and marks the key for `ticket`; when another record holds it, decides by
    /// `begin`'s rule whether it may be taken over, and takes it over marked.
    private func mark(_ ticket: DedupTicket, token: String) async throws -> Bool {
        for _ in 0..<2 {
            let nowMs = clock().millisecondsSince1970
            let leaseUntil = nowMs.saturatingAdding(leaseMs)
            let statement = MarkPendingStatement(
                key: ticket.key, createdMs: ticket.createdMs, expiresMs: ticket.expiresMs, owner: owner, token: token,
                leaseUntilMs: leaseUntil)
            let marked = try await state.operation {
                try await statement.run(on: self.state.client, tables: self.state.tables, logger: self.state.logger)
            }
            if marked { return true }
            // Deleted meanwhile (a send that did not go out): claim again.
            guard let stored = try await read(key: ticket.key) else { continue }
            guard stored.record.token != token else { return false }  // ours, no longer in progress
            guard case .proceed = decide(stored, nowMs: nowMs) else { return false }
            return try await takeOver(
                from: stored.record.token, for: ticket, token: token, as: .pending, leaseUntilMs: leaseUntil,
                on: state.client)
        }
        return false
    }

    /// What a stored record means now, by the one-host store's rule; its owner is alive
    /// while its lease runs.
    private func decide(_ stored: (record: DedupRecord, lease: Int64), nowMs: Int64) -> DedupDecision {
        DedupDecision.decide(
            record: stored.record, nowMs: nowMs, staleAfterMs: Int64(staleAfter.wholeMilliseconds),
            ownerIsAlive: stored.lease > nowMs)
    }

    /// Replaces the record whose token is `previous` with `ticket`'s, in `recordState`, by
    /// compare-and-set on that token: of two hosts taking a key over at once, one wins.
    private func takeOver(
        from previous: String, for ticket: DedupTicket, token: String, as recordState: DedupRecord.State,
        leaseUntilMs: Int64, on client: PostgresClient
    ) async throws -> Bool {
        let table = table
        let owner = owner
        return try await state.operation {
            try await client.query(
                """
                UPDATE \(unescaped: table) SET state = \(recordState.rawValue), result_json = NULL,
                    created_ms = \(ticket.createdMs), expires_ms = \(ticket.expiresMs), owner = \(owner), token = \(token),
                    lease_until_ms = \(leaseUntilMs)
                WHERE key = \(ticket.key) AND token = \(previous) RETURNING token
                """, logger: self.state.logger
            ).collect().count == 1
        }
    }

    @discardableResult
    public func complete(_ ticket: DedupTicket, resultJSON: String, countsAsSent: Bool) async throws -> Bool {
        guard ticket.token != nil else { return false }
        let outcome = Unwritten(ticket: ticket, resultJSON: resultJSON, countsAsSent: countsAsSent)
        defer {
            release(ticket)
            waiters.notify(key: ticket.key)
        }
        do {
            return try await write(outcome)
        } catch {
            unwritten.withLock { $0[ticket.key] = outcome }
            throw error
        }
    }

    public func completeLater(
        _ ticket: DedupTicket, resultJSON: String, countsAsSent: Bool, onFailure: @escaping @Sendable (any Error) -> Void
    ) {
        guard ticket.token != nil else { return }
        // This process's identical sends wait on the held key until it is written.
        writing.withLock { writing in
            let id = writing.next
            writing.next += 1
            writing.tasks[id] = Task {
                do {
                    try await self.complete(ticket, resultJSON: resultJSON, countsAsSent: countsAsSent)
                } catch {
                    onFailure(error)
                }
                self.writing.withLock { _ = $0.tasks.removeValue(forKey: id) }
            }
        }
    }

    public func flush() async {
        for task in writing.withLock({ Array($0.tasks.values) }) {
            await task.value
        }
    }

    @discardableResult
    public func purgeExpired(now: Date) async throws -> Int {
        let nowMs = now.millisecondsSince1970
        let staleBeforeMs = nowMs.saturatingSubtracting(Int64(staleAfter.wholeMilliseconds))
        unwritten.withLock { $0 = $0.filter { $0.value.ticket.expiresMs > nowMs } }
        let table = table
        return try await state.operation {
            let rows = try await self.state.fastClient.query(
                """
                DELETE FROM \(unescaped: table) WHERE expires_ms <= \(nowMs)
                AND (state = 'done' OR lease_until_ms <= \(nowMs) OR created_ms <= \(staleBeforeMs)) RETURNING 1
                """, logger: self.state.logger
            ).collect()
            return rows.count
        }
    }

    // MARK: Maintenance

    /// Renews the leases of this process's sends in progress, and writes the outcomes that
    /// could not be written. Run every third of the lease.
    public func maintain() async throws {
        let table = table
        let owner = owner
        let leaseUntil = clock().millisecondsSince1970.saturatingAdding(leaseMs)
        if !held.withLock({ $0.isEmpty }) {
            try await state.operation {
                try await self.state.fastClient.query(
                    """
                    UPDATE \(unescaped: table) SET lease_until_ms = \(leaseUntil)
                    WHERE owner = \(owner) AND state IN ('reserved', 'pending')
                    """, logger: self.state.logger)
                return ()
            }
        }
        for outcome in unwritten.withLock({ Array($0.values) }) {
            try await write(outcome)
            unwritten.withLock { unwritten in
                if unwritten[outcome.ticket.key]?.ticket == outcome.ticket { unwritten[outcome.ticket.key] = nil }
            }
            waiters.notify(key: outcome.ticket.key)
        }
    }

    // MARK: Rows

    @discardableResult
    private func write(_ outcome: Unwritten) async throws -> Bool {
        guard let token = outcome.ticket.token else { return false }
        let table = table
        let key = outcome.ticket.key
        let json = outcome.resultJSON
        return try await state.operation {
            guard outcome.countsAsSent else {
                return try await self.state.fastClient.query(
                    "DELETE FROM \(unescaped: table) WHERE key = \(key) AND token = \(token) RETURNING 1", logger: self.state.logger
                ).collect().count == 1
            }
            return try await RecordOutcomeStatement(resultJSON: json, key: key, token: token)
                .run(on: self.state.fastClient, tables: self.state.tables, logger: self.state.logger)
        }
    }

    private func release(_ ticket: DedupTicket) {
        held.withLock { held in
            if held[ticket.key] == ticket.token { held[ticket.key] = nil }
        }
    }

    private func read(key: String) async throws -> (record: DedupRecord, lease: Int64)? {
        let table = table
        let row = try await state.operation {
            try await self.state.fastClient.query(
                """
                SELECT state, result_json, created_ms, expires_ms, owner, token, lease_until_ms
                FROM \(unescaped: table) WHERE key = \(key)
                """, logger: self.state.logger
            ).collect().first.map { row in
                try row.decode((String, String?, Int64, Int64, String, String, Int64).self)
            }
        }
        guard let row else { return nil }
        guard let recordState = DedupRecord.State(rawValue: row.0) else {
            throw PostgresStateError(.failed(sqlState: "-"), "a dedup record has an unknown state")
        }
        let record = DedupRecord(
            key: key, state: recordState, resultJSON: row.1, createdMs: row.2, expiresMs: row.3, owner: row.4, token: row.5)
        return (record, row.6)
    }
}
