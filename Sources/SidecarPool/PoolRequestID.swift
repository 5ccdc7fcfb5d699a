/// Identifies one request for a lease. The shell makes them; tests pick them.
struct PoolRequestID: Hashable, Sendable, CustomStringConvertible {
    let rawValue: Int

    init(_ rawValue: Int) {
        self.rawValue = rawValue
    }

    var description: String { "request-\(rawValue)" }
}
