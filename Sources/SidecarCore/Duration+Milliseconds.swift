extension Duration {
    /// The duration in whole milliseconds, rounded down (for logs, stats and the wire).
    public var wholeMilliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}
