import FoundationEssentials

extension Date {
    /// Milliseconds since the epoch, rounded down, clamped to `Int64` (a `Date` far in the
    /// future, or NaN from an injected clock, must not trap).
    package var millisecondsSince1970: Int64 {
        Int64(clampingDouble: (timeIntervalSince1970 * 1000).rounded(.down))
    }

    package init(millisecondsSince1970 milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}
