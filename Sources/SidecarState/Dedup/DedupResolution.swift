import FoundationEssentials

/// What the waiting ``DedupStore/begin(key:window:)`` says: like ``DedupBegin`` but never
/// "in progress", because it waits that out.
public enum DedupResolution: Sendable, Hashable {
    case proceed(DedupTicket)
    case duplicate(resultJSON: String)
    case abandoned(since: Date)
}
