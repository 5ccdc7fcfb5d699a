/// Identifies one connection for the pool's whole life; never reused for another.
package struct PoolConnectionID: Hashable, Sendable, Comparable, CustomStringConvertible {
    package let rawValue: Int

    package init(_ rawValue: Int) {
        self.rawValue = rawValue
    }

    package static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    package var description: String { "connection-\(rawValue)" }
}
