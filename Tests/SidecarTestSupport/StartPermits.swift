/// Bounds how many suites start their servers at once, without blocking a thread while
/// one waits: eight Postfix suites starting together (a few seconds of CPU each) made the
/// timing of every other suite's tests, running alongside, depend on the machine.
public actor StartPermits {
    private var available: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public init(_ count: Int) {
        available = count
    }

    /// Runs `body` holding one permit.
    public func withPermit<Result: Sendable>(_ body: @Sendable () async throws -> Result) async rethrows -> Result {
        if available > 0 {
            available -= 1
        } else {
            await withCheckedContinuation { waiting.append($0) }
        }
        defer {
            if waiting.isEmpty { available += 1 } else { waiting.removeFirst().resume() }
        }
        return try await body()
    }
}
