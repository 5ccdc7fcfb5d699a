/// Decides which accepted connections are served, and which connections must drain when
/// the daemon shuts down. Pure: the server applies it under a lock.
///
/// States: `accepting` → `shuttingDown` (terminal).
public struct AdmissionStateMachine: Sendable {
    public enum Admission: Sendable, Equatable {
        case serve
        case refuseTooManyConnections
        case refuseShuttingDown
    }

    enum State: Sendable {
        case accepting
        case shuttingDown
    }

    public let maxConnections: Int
    private var state: State = .accepting
    private(set) var open: Set<Int> = []

    public init(maxConnections: Int) {
        self.maxConnections = maxConnections
    }

    public mutating func connectionAccepted(_ id: Int) -> Admission {
        switch state {
        case .shuttingDown:
            return .refuseShuttingDown
        case .accepting:
            guard open.count < maxConnections else { return .refuseTooManyConnections }
            open.insert(id)
            return .serve
        }
    }

    public mutating func connectionClosed(_ id: Int) {
        open.remove(id)
    }

    /// Returns the connections that must now drain.
    public mutating func shutdownRequested() -> Set<Int> {
        switch state {
        case .accepting:
            state = .shuttingDown
            return open
        case .shuttingDown:
            return []
        }
    }

    public var isShuttingDown: Bool {
        switch state {
        case .accepting: false
        case .shuttingDown: true
        }
    }
}
