import FoundationEssentials
import Synchronization

/// The credentials whose provider said their quota is spent, by rate key, in memory: a
/// send checks it without touching the database. Each rate store fills it from its own
/// records (at start, and for a shared database at every maintenance round).
package final class QuotaExhaustionMarks: Sendable {
    private let marks: Mutex<[String: QuotaExhaustion]>

    package init(_ marks: [String: QuotaExhaustion] = [:]) {
        self.marks = Mutex(marks)
    }

    /// `key`'s mark if it still holds at `now`; a mark that ran out is forgotten.
    package func mark(for key: String, now: Date) -> QuotaExhaustion? {
        marks.withLock { marks in
            guard let found = marks[key] else { return nil }
            guard found.until > now else {
                marks[key] = nil
                return nil
            }
            return found
        }
    }

    package func set(_ exhaustion: QuotaExhaustion, for key: String) {
        marks.withLock { $0[key] = exhaustion }
    }

    /// Replaces every mark (what the database holds now).
    package func replaceAll(with marks: [String: QuotaExhaustion]) {
        self.marks.withLock { $0 = marks }
    }
}
