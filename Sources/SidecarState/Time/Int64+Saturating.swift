/// Arithmetic that clamps to `Int64.min ... Int64.max` instead of trapping.
///
/// Every sum, difference and product in this module on a time, a duration or a stored
/// count goes through these: the values come from requests (a dedup window), from the
/// configuration, or from a database file another process may have written, and no value
/// of any of them may stop the daemon on an overflow trap. A clamped time is far outside
/// any real window (`Int64.max` ms is 292 million years), so clamping never changes a
/// decision that a real value would make.
extension Int64 {
    package func saturatingAdding(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other > 0 ? .max : .min
    }

    package func saturatingSubtracting(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        guard overflow else { return difference }
        return other < 0 ? .max : .min
    }

    package func saturatingMultiplied(by other: Int64) -> Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        guard overflow else { return product }
        return (self < 0) == (other < 0) ? .max : .min
    }

    /// `value` rounded towards zero, clamped; NaN becomes 0.
    init(clampingDouble value: Double) {
        if value.isNaN {
            self = 0
        } else if value >= 9_223_372_036_854_775_807.0 {
            // The literal rounds to 2^63, which is one past Int64.max.
            self = .max
        } else if value <= -9_223_372_036_854_775_808.0 {
            self = .min
        } else {
            self = Int64(value)
        }
    }
}
