import Foundation
import SidecarState

/// A state database in a fresh temporary directory, with the dedup store and rate limiter
/// the daemon builds on it; the directory is removed when this goes.
final class TemporaryState {
    let path: String
    let database: StateDatabase
    let dedup: DedupStore
    let rateLimiter: RateLimiter

    /// - Parameter staleAfter: the dedup store's stale limit (zero: a reservation is given
    ///   up as soon as an identical send asks, which tests use to take one over).
    init(staleAfter: Duration = .seconds(600)) throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("sidecar-mail-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
        database = try StateDatabase(stateDirectory: path)
        dedup = DedupStore(database: database, staleAfter: staleAfter)
        rateLimiter = RateLimiter(database: database)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}
