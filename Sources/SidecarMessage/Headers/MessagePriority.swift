/// `params.priority`: written as `X-Priority` (1, 3 or 5, the convention of Outlook and
/// most clients) and `Importance` (RFC 2156 §5.3).
public enum MessagePriority: String, Sendable, Hashable, CaseIterable {
    case low
    case normal
    case high

    /// The header fields that express this priority.
    var headerFields: [(name: String, value: String)] {
        switch self {
        case .high: [("X-Priority", "1 (Highest)"), ("Importance", "high")]
        case .normal: [("X-Priority", "3 (Normal)"), ("Importance", "normal")]
        case .low: [("X-Priority", "5 (Lowest)"), ("Importance", "low")]
        }
    }

    /// Lower-cased names of ``headerFields``; a custom header may not repeat them when a
    /// priority is set.
    static let headerNames: Set<String> = ["x-priority", "importance"]
}
