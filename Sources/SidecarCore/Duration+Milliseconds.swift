extension Duration {
    /// The duration in whole milliseconds, rounded toward zero, clamped to `Int` (a
    /// `Duration` holds 128 bits: `.seconds(1 << 62)` is a valid duration, but not a valid
    /// count of milliseconds). For logs, stats, the wire and the state database.
    public var wholeMilliseconds: Int {
        let (seconds, attoseconds) = components
        let (milliseconds, overflow) = Int(seconds).multipliedReportingOverflow(by: 1000)
        if overflow { return seconds < 0 ? .min : .max }
        let (total, overflowAdding) = milliseconds.addingReportingOverflow(Int(attoseconds / 1_000_000_000_000_000))
        if overflowAdding { return attoseconds < 0 ? .min : .max }
        return total
    }
}
