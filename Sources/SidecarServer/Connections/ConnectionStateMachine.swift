import SidecarProtocol

/// Every decision about one client connection, as a pure value: which requests to run,
/// when to stop reading, when to close. The shell (``ClientConnection``) feeds it events
/// and carries out the actions; it never sleeps, locks or writes.
///
/// Every frame the connection answers holds one of its `maxInFlight` slots until the answer
/// is written: a request while it runs, and a refusal (a malformed request, a duplicate id,
/// `shutting_down`) too. So a client that writes and never reads stops being read once
/// `maxInFlight` answers wait for it (backpressure), whatever it sends; the daemon holds at
/// most `maxInFlight` unwritten answers per connection.
///
/// States:
/// - `reading`: frames are read while fewer than `maxInFlight` slots are taken.
///   → `draining` on shutdown, on broken framing, or when the client closes its side.
/// - `draining(reason)`: no further frame is taken up as a request (while shutting down,
///   frames are still read, within the slots, and refused); once the last slot is free the
///   connection closes. → `closed`.
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
    /// Refusals whose answer is not written yet; each holds a slot like a request.
    private(set) var refusalsInFlight = 0
    private(set) var lastActivity: ContinuousClock.Instant

    public init(maxInFlight: Int, idleTimeout: Duration, now: ContinuousClock.Instant) {
        precondition(maxInFlight > 0)
        self.maxInFlight = maxInFlight
        self.idleTimeout = idleTimeout
        self.lastActivity = now
    }

    /// Requests running now.
    public var inFlightCount: Int { inFlight.count }

    /// Slots taken: requests running and refusals not yet written.
    public var slotsTaken: Int { inFlight.count + refusalsInFlight }

    /// Whether the reader may take the next frame now. `false` while all slots are taken
    /// (backpressure: the socket is not read, the client's writes wait in the kernel).
    public var mayReadNextFrame: Bool {
        switch state {
        case .reading, .draining(.shutdown): slotsTaken < maxInFlight
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

    /// A request was decoded. `dispatch` takes a slot until ``requestCompleted(_:now:)``;
    /// a rejection takes one until ``refusalAnswered(now:)``.
    public mutating func requestDecoded(_ id: RequestID) -> RequestAction {
        switch state {
        case .reading:
            guard !inFlight.contains(id) else {
                refusalsInFlight += 1
                return .rejectDuplicateID
            }
            inFlight.insert(id)
            return .dispatch
        case .draining(.shutdown):
            refusalsInFlight += 1
            return .rejectShuttingDown
        case .draining(.framingBroken), .draining(.inputClosed), .draining(.idle), .closed:
            refusalsInFlight += 1
            return .rejectShuttingDown
        }
    }

    /// A frame is answered with an error without becoming a request (it is not a valid
    /// request): its answer takes a slot until ``refusalAnswered(now:)``.
    public mutating func frameRefused() {
        refusalsInFlight += 1
    }

    /// The answer to a refused frame has been written (or the client is gone).
    public mutating func refusalAnswered(now: ContinuousClock.Instant) -> CompletionAction {
        precondition(refusalsInFlight > 0, "a refusal answered that never took a slot")
        let wasFull = slotsTaken >= maxInFlight
        refusalsInFlight -= 1
        return slotFreed(wasFull: wasFull, now: now)
    }

    public mutating func requestCompleted(_ id: RequestID, now: ContinuousClock.Instant) -> CompletionAction {
        let wasFull = slotsTaken >= maxInFlight
        inFlight.remove(id)
        return slotFreed(wasFull: wasFull, now: now)
    }

    private mutating func slotFreed(wasFull: Bool, now: ContinuousClock.Instant) -> CompletionAction {
        lastActivity = now
        switch state {
        case .reading:
            return wasFull ? .resumeReading : .none
        case .draining(.shutdown) where slotsTaken > 0:
            // Still reading (and refusing) frames: a reader waiting for a slot goes on.
            return wasFull ? .resumeReading : .none
        case .draining(let reason):
            guard slotsTaken == 0 else { return .none }
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
            guard slotsTaken == 0 else { return .checkAgain(at: now + idleTimeout) }
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
            if slotsTaken == 0 {
                state = .closed
                return .closeInputNow
            }
            state = .draining(reason)
            return .closeWhenDrained
        case .draining(.shutdown) where reason != .shutdown:
            // The framing broke or the client left while draining for shutdown: stop reading.
            state = slotsTaken == 0 ? .closed : .draining(reason)
            return slotsTaken == 0 ? .closeInputNow : .closeWhenDrained
        case .draining, .closed:
            return .none
        }
    }
}
