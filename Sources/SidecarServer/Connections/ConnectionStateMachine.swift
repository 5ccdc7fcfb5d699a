import SidecarProtocol

/// Every decision about one client connection, as a pure value: which requests to run,
/// when to stop reading, when to close. The shell (``ClientConnection``) feeds it events
/// and carries out the actions; it never sleeps, locks or writes.
///
/// States:
/// - `reading`: frames are read while fewer than `maxInFlight` requests run.
///   → `draining` on shutdown, on broken framing, or when the client closes its side.
/// - `draining(reason)`: no further frame is taken up as a request; once the last request
///   in flight is answered the connection closes. → `closed`.
/// - `closed`: terminal.
public struct ConnectionStateMachine: Sendable {
    public enum DrainReason: Sendable, Equatable {
        /// The daemon is shutting down: frames still read are answered `shutting_down`.
        case shutdown
        /// The framing broke (oversized or truncated frame): nothing more is read.
        case framingBroken
        /// The client closed its sending side: nothing more can be read.
        case inputClosed
        /// The idle timeout passed with nothing in flight.
        case idle
    }

    enum State: Sendable, Equatable {
        case reading
        case draining(DrainReason)
        case closed
    }

    /// What to do with a request that was just decoded.
    public enum RequestAction: Sendable, Equatable {
        case dispatch
        case rejectDuplicateID
        case rejectShuttingDown
    }

    /// What to do when the connection should stop taking requests.
    public enum CloseAction: Sendable, Equatable {
        /// Close the input side now: nothing is in flight.
        case closeInputNow
        /// Stop reading; close once the requests in flight are answered.
        case closeWhenDrained
        /// Already draining or closed.
        case none
    }

    /// What to do when a request has been answered.
    public enum CompletionAction: Sendable, Equatable {
        case none
        /// Resume the reader, which was waiting for a free slot.
        case resumeReading
        /// The connection was draining and this was the last request: close.
        case close
    }

    /// What to do when the idle timer fires.
    public enum IdleAction: Sendable, Equatable {
        case close
        /// Not idle long enough, or busy: check again at this instant.
        case checkAgain(at: ContinuousClock.Instant)
        /// The connection is no longer reading; stop the timer.
        case stop
    }

    public let maxInFlight: Int
    public let idleTimeout: Duration
    private(set) var state: State = .reading
    private(set) var inFlight: Set<RequestID> = []
    private(set) var lastActivity: ContinuousClock.Instant

    public init(maxInFlight: Int, idleTimeout: Duration, now: ContinuousClock.Instant) {
        precondition(maxInFlight > 0)
        self.maxInFlight = maxInFlight
        self.idleTimeout = idleTimeout
        self.lastActivity = now
    }

    /// Requests running now.
    public var inFlightCount: Int { inFlight.count }

    /// Whether the reader may take the next frame now. `false` while all slots are taken
    /// (backpressure: the socket is not read, the client's writes wait in the kernel).
    public var mayReadNextFrame: Bool {
        switch state {
        case .reading: inFlight.count < maxInFlight
        case .draining(.shutdown): true
        case .draining(.framingBroken), .draining(.inputClosed), .draining(.idle), .closed: false
        }
    }

    /// Whether the reader should stop for good.
    public var readingIsOver: Bool {
        switch state {
        case .reading, .draining(.shutdown): false
        case .draining(.framingBroken), .draining(.inputClosed), .draining(.idle), .closed: true
        }
    }

    public mutating func frameReceived(now: ContinuousClock.Instant) {
        lastActivity = now
    }

    public mutating func requestDecoded(_ id: RequestID) -> RequestAction {
        switch state {
        case .reading:
            guard !inFlight.contains(id) else { return .rejectDuplicateID }
            inFlight.insert(id)
            return .dispatch
        case .draining(.shutdown):
            return .rejectShuttingDown
        case .draining(.framingBroken), .draining(.inputClosed), .draining(.idle), .closed:
            return .rejectShuttingDown
        }
    }

    public mutating func requestCompleted(_ id: RequestID, now: ContinuousClock.Instant) -> CompletionAction {
        let wasFull = inFlight.count >= maxInFlight
        inFlight.remove(id)
        lastActivity = now
        switch state {
        case .reading:
            return wasFull ? .resumeReading : .none
        case .draining(let reason):
            guard inFlight.isEmpty else { return .none }
            state = .closed
            // The reader of a connection draining for shutdown is still waiting for frames.
            return reason == .shutdown ? .close : .none
        case .closed:
            return .none
        }
    }

    public mutating func shutdownRequested() -> CloseAction {
        drain(.shutdown)
    }

    public mutating func framingBroke() -> CloseAction {
        drain(.framingBroken)
    }

    public mutating func inputClosed() -> CloseAction {
        drain(.inputClosed)
    }

    public mutating func idleTimerFired(now: ContinuousClock.Instant) -> IdleAction {
        switch state {
        case .reading:
            guard inFlight.isEmpty else { return .checkAgain(at: now + idleTimeout) }
            let deadline = lastActivity + idleTimeout
            guard now >= deadline else { return .checkAgain(at: deadline) }
            state = .closed
            return .close
        case .draining, .closed:
            return .stop
        }
    }

    private mutating func drain(_ reason: DrainReason) -> CloseAction {
        switch state {
        case .reading:
            if inFlight.isEmpty {
                state = .closed
                return .closeInputNow
            }
            state = .draining(reason)
            return .closeWhenDrained
        case .draining(.shutdown) where reason != .shutdown:
            // The framing broke or the client left while draining for shutdown: stop reading.
            state = inFlight.isEmpty ? .closed : .draining(reason)
            return inFlight.isEmpty ? .closeInputNow : .closeWhenDrained
        case .draining, .closed:
            return .none
        }
    }
}
