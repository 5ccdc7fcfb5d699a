import FoundationEssentials

/// What the waiting ``DedupStore/begin(key:window:deadline:)`` says: like ``DedupBegin`` but never
/// "in progress", because it waits that out (until the caller's deadline, if any).
public enum DedupResolution: Sendable, Hashable {
    case proceed(DedupTicket)
    case duplicate(resultJSON: String)
    case abandoned(since: Date)
    /// An identical send was still running when the caller's deadline passed.
    case inProgressAtDeadline
}
