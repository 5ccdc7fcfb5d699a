import FoundationEssentials
import SidecarCore

/// Proof that a `begin` let the caller send: pass it back to ``DedupStore/complete(_:resultJSON:countsAsSent:)``.
/// Only the ticket's holder can finish or release the record it created.
public struct DedupTicket: Sendable, Hashable {
    public let key: String
    /// Nil when the window was 0 (no dedup): completing such a ticket does nothing.
    package let token: String?
    /// When the send began, in ms since the epoch: the record's creation time.
    package let createdMs: Int64
    /// When the record expires, in ms since the epoch.
    package let expiresMs: Int64

    package init(key: String, token: String?, createdMs: Int64 = 0, expiresMs: Int64 = 0) {
        self.key = key
        self.token = token
        self.createdMs = createdMs
        self.expiresMs = expiresMs
    }

    /// A new ticket's token: 128 random bits in hex. It tells one send's record from
    /// another's, and is no secret, so it comes from ``BufferedRandom`` (a `UUID()` opened,
    /// read and closed `/dev/urandom` on every send).
    package static func newToken(random: BufferedRandom = .shared) -> String {
        let words = [random.next(), random.next()]
        return Hex.string(words.flatMap { word in (0..<8).map { UInt8(truncatingIfNeeded: word >> ($0 * 8)) } })
    }
}

/// What the synchronous ``DedupStore/begin(key:window:now:)`` says.
public enum DedupBegin: Sendable, Hashable {
    /// No live record: the caller sends, then completes the ticket.
    case proceed(DedupTicket)
    /// An identical send finished within the window: return its stored result (with
    /// `duplicate: true`) instead of sending.
    case duplicate(resultJSON: String)
    /// An identical send is running now. The async ``DedupStore/begin(key:window:)`` waits for it.
    case inProgress
    /// An identical send began within the window, but the process doing it died (or it
    /// ran past the stale limit) before recording a result. The email may have been
    /// sent: answer `outcome_unknown`, do not send. See ``DedupStore``.
    case abandoned(since: Date)
}

