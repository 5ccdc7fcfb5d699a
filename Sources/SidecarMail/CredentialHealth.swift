import FoundationEssentials
import SidecarCore

/// The last success and the last failure of each stored credential's sends and
/// verifications, as this daemon saw them since it started. Pure: the outcomes and their
/// times come in as events, in any order (concurrent sends finish out of order), and the
/// newest of each kind wins.
///
/// In memory only: a database write per send would cost every send for a figure an operator
/// reads now and then. A fleet's hosts each know their own sends.
struct CredentialHealth: Sendable {
    /// A stored credential: ids are unique within a workspace only.
    struct Key: Hashable, Sendable {
        var workspace: String
        var id: String
    }

    struct Failure: Sendable, Hashable {
        var code: ErrorCode
        /// The error's message (safe to show a user: it never holds a secret), shortened.
        var message: String
        var at: Date
    }

    struct Entry: Sendable, Hashable {
        var lastSuccess: Date?
        var lastFailure: Failure?
    }

    /// The longest message kept, in characters.
    static let maxMessageLength = 512

    private(set) var entries: [Key: Entry] = [:]

    /// A send or verification with the credential succeeded at `at`.
    mutating func succeeded(_ key: Key, at: Date) {
        var entry = entries[key] ?? Entry()
        if entry.lastSuccess.map({ $0 < at }) ?? true { entry.lastSuccess = at }
        entries[key] = entry
    }

    /// A send or verification with the credential failed at `at` with `error`.
    mutating func failed(_ key: Key, error: SidecarError, at: Date) {
        var entry = entries[key] ?? Entry()
        if entry.lastFailure.map({ $0.at <= at }) ?? true {
            entry.lastFailure = Failure(code: error.code, message: String(error.message.prefix(Self.maxMessageLength)), at: at)
        }
        entries[key] = entry
    }

    /// Forgets credentials that are no longer stored (removed since their last send).
    mutating func keepOnly(_ stored: Set<Key>) {
        entries = entries.filter { stored.contains($0.key) }
    }

    func entry(_ key: Key) -> Entry? {
        entries[key]
    }
}
