/// Decides which accepted connections are served, and which connections must drain when
/// the daemon shuts down. Pure: the server applies it under a lock.
///
/// States: `accepting` → `shuttingDown` (terminal).
package struct AdmissionStateMachine: Sendable {
    package enum Admission: Sendable, Equatable {
        case serve
        case refuseTooManyConnections
        case refuseShuttingDown
    }

    enum State: Sendable {
        case accepting
        case shuttingDown
    }

    package let maxConnections: Int
    private var state: State = .accepting
    private(set) var open: Set<Int> = []

    package init(maxConnections: Int) {
        self.maxConnections = maxConnections
    }

    package mutating func connectionAccepted(_ id: Int) -> Admission {
        switch state {
        case .shuttingDown:
            return .refuseShuttingDown
        case .accepting:
            guard open.count < maxConnections else { return .refuseTooManyConnections }
            open.insert(id)
            return .serve
        }
    }

    package mutating func connectionClosed(_ id: Int) {
        open.remove(id)
    }

    /// Returns the connections that must now drain.
    package mutating func shutdownRequested() -> Set<Int> {
        switch state {
        case .accepting:
            state = .shuttingDown
            return open
        case .shuttingDown:
            return []
        }
    }

    package var isShuttingDown: Bool {
        switch state {
        case .accepting: false
        case .shuttingDown: true
        }
    }
}
