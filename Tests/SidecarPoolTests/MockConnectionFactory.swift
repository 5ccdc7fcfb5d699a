import SidecarPool
import Synchronization

struct MockConnection: Sendable, Hashable {
    let serial: Int
    let key: String
}

struct InjectedFailure: Error, Equatable {}

/// Counts creations and closes, tracks how many connections are open at once, and fails
/// or stalls creation on demand.
final class MockConnectionFactory: PoolConnectionFactory {
    /// Tests pass a string and read back which one each creation got.
    typealias Context = String

    struct Close: Hashable {
        var connection: MockConnection
        var gracefully: Bool
    }

    private struct State {
        var made = 0
        var open = 0
        var maxOpen = 0
        var openPerKey: [String: Int] = [:]
        var maxOpenPerKey = 0
        var closes: [Close] = []
        var failuresToInject = 0
        var holdCreations = false
        var heldCreations: [CheckedContinuation<Void, Never>] = []
        var contexts: [String] = []
        var stallCreations = false
        var stalled = 0
        var cancelledCreations = 0
    }

    private let state = Mutex(State())
    let creationDelay: Duration?

    init(creationDelay: Duration? = nil) {
        self.creationDelay = creationDelay
    }

    var made: Int { state.withLock { $0.made } }
    var open: Int { state.withLock { $0.open } }
    var maxOpen: Int { state.withLock { $0.maxOpen } }
    var maxOpenPerKey: Int { state.withLock { $0.maxOpenPerKey } }
    var closes: [Close] { state.withLock { $0.closes } }
    var heldCreationCount: Int { state.withLock { $0.heldCreations.count } }
    /// The context each creation was given, in order.
    var contexts: [String] { state.withLock { $0.contexts } }

    func failNextCreations(_ count: Int) { state.withLock { $0.failuresToInject = count } }

    func holdCreations() { state.withLock { $0.holdCreations = true } }

    /// Creations from now on never finish unless their task is cancelled (a server that
    /// accepts and never answers).
    func stallCreations() { state.withLock { $0.stallCreations = true } }
    /// Stalled creations in progress, and those ended by cancellation.
    var stalledCreations: Int { state.withLock { $0.stalled } }
    var cancelledCreations: Int { state.withLock { $0.cancelledCreations } }

    func releaseHeldCreations() {
        let held = state.withLock { state in
            state.holdCreations = false
            defer { state.heldCreations = [] }
            return state.heldCreations
        }
        for continuation in held { continuation.resume() }
    }

    func makeConnection(for key: String, context: String) async throws -> MockConnection {
        let stall = state.withLock { state in
            state.contexts.append(context)
            if state.stallCreations { state.stalled += 1 }
            return state.stallCreations
        }
        if stall {
            defer { state.withLock { $0.stalled -= 1 } }
            do {
                try await Task.sleep(for: .seconds(3600))
            } catch {
                state.withLock { $0.cancelledCreations += 1 }
                throw error
            }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let hold = state.withLock { state in
                if state.holdCreations { state.heldCreations.append(continuation) }
                return state.holdCreations
            }
            if !hold { continuation.resume() }
        }
        if let creationDelay { try await Task.sleep(for: creationDelay) }
        return try state.withLock { state in
            if state.failuresToInject > 0 {
                state.failuresToInject -= 1
                throw InjectedFailure()
            }
            state.made += 1
            state.open += 1
            state.maxOpen = max(state.maxOpen, state.open)
            state.openPerKey[key, default: 0] += 1
            state.maxOpenPerKey = max(state.maxOpenPerKey, state.openPerKey[key]!)
            return MockConnection(serial: state.made, key: key)
        }
    }

    func close(_ connection: MockConnection, gracefully: Bool) async {
        state.withLock { state in
            state.open -= 1
            state.openPerKey[connection.key, default: 0] -= 1
            state.closes.append(Close(connection: connection, gracefully: gracefully))
        }
    }
}

extension ConnectionPool where Factory == MockConnectionFactory {
    /// Leases with the context `context-<key>`.
    func withConnection<Value>(
        key: String,
        label: String,
        deadline: PoolClock.Instant? = nil,
        requireFresh: Bool = false,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (Lease<MockConnection>) async throws -> (Value, ReleaseDisposition)
    ) async throws -> Value {
        try await withConnection(
            key: key, context: "context-\(key)", label: label, deadline: deadline, requireFresh: requireFresh, body)
    }
}
