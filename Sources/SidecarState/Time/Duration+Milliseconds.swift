extension Duration {
    /// Whole milliseconds, rounded down, clamped to `Int64` (a `Duration` holds 128 bits:
    /// `.seconds(1 << 62)` is a valid duration, but not a valid `Int64` of milliseconds).
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds.saturatingMultiplied(by: 1000).saturatingAdding(attoseconds / 1_000_000_000_000_000)
    }
}
