import FoundationEssentials
import Logging
import SidecarState
import SidecarStatePostgres
import Synchronization

/// `state_fail_open = true`: duplicate suppression on the shared database while it answers,
/// and on this host's own database while it does not, so that sends go on during an outage
/// of the shared one. Every send that falls back is logged at warning: identical sends on
/// two hosts during the outage may both go out.
///
/// A ticket is finished by the store that gave it: the fallback's tokens are remembered
/// until their send ends.
final class FailOpenDedupStore: DedupStoring {
    let shared: any DedupStoring
    let local: DedupStore
    let logger: Logger
    /// Tokens of the tickets the local store gave.
    private let localTokens = Mutex<Set<String>>([])

    init(shared: any DedupStoring, local: DedupStore, logger: Logger) {
        self.shared = shared
        self.local = local
        self.logger = logger
    }

    private func isLocal(_ ticket: DedupTicket) -> Bool {
        guard let token = ticket.token else { return false }
        return localTokens.withLock { $0.contains(token) }
    }

    private func forget(_ ticket: DedupTicket) {
        guard let token = ticket.token else { return }
        _ = localTokens.withLock { $0.remove(token) }
    }

    func begin(key: String, window: Duration, deadline: ContinuousClock.Instant?) async throws -> DedupResolution {
        do {
            return try await shared.begin(key: key, window: window, deadline: deadline)
        } catch let error as PostgresStateError where error.isUnavailable {
            logger.warning(
                "The shared state database is unavailable; sending with duplicate suppression on this host only (state_fail_open)",
                metadata: ["error": "\(error.detail)"])
            let resolution = try await local.begin(key: key, window: window, deadline: deadline)
            if case .proceed(let ticket) = resolution, let token = ticket.token {
                _ = localTokens.withLock { $0.insert(token) }
            }
            return resolution
        }
    }

    func markPending(_ ticket: DedupTicket) async throws -> Bool {
        isLocal(ticket) ? try await local.markPending(ticket) : try await shared.markPending(ticket)
    }

    @discardableResult
    func complete(_ ticket: DedupTicket, resultJSON: String, countsAsSent: Bool) async throws -> Bool {
        guard isLocal(ticket) else { return try await shared.complete(ticket, resultJSON: resultJSON, countsAsSent: countsAsSent) }
        defer { forget(ticket) }
        return try await local.complete(ticket, resultJSON: resultJSON, countsAsSent: countsAsSent)
    }

    func completeLater(
        _ ticket: DedupTicket, resultJSON: String, countsAsSent: Bool, onFailure: @escaping @Sendable (any Error) -> Void
    ) {
        guard isLocal(ticket) else {
            return shared.completeLater(ticket, resultJSON: resultJSON, countsAsSent: countsAsSent, onFailure: onFailure)
        }
        forget(ticket)
        local.completeLater(ticket, resultJSON: resultJSON, countsAsSent: countsAsSent, onFailure: onFailure)
    }

    @discardableResult
    func purgeExpired(now: Date) async throws -> Int {
        let purged = try await local.purgeExpired(now: now)
        return try await purged + shared.purgeExpired(now: now)
    }

    func flush() async {
        await local.flush()
        await shared.flush()
    }
}
