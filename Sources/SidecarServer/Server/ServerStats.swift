import Synchronization
import SidecarCore
import SidecarProtocol

/// The daemon's counters, shared by every connection. Updates are a lock and an addition,
/// and the same event recorded in ``ServerMetrics``.
public final class ServerStats: Sendable {
    struct Counters {
        var openConnections = 0
        var acceptedConnections = 0
        var refusedConnections = 0
        var inFlight = 0
        var answered = 0
        var byResult: [String: Int] = [:]
        var byOperation: [String: Int] = [:]
    }

    private let counters = Mutex(Counters())
    private let started: ContinuousClock.Instant
    private let metrics: ServerMetrics

    public init(started: ContinuousClock.Instant = .now, metrics: ServerMetrics = .none) {
        self.started = started
        self.metrics = metrics
    }

    func connectionAccepted() {
        counters.withLock {
            $0.acceptedConnections += 1
            $0.openConnections += 1
        }
        metrics.connectionAccepted()
    }

    func connectionRefused() {
        counters.withLock { $0.refusedConnections += 1 }
        metrics.connectionRefused()
    }

    func connectionClosed() {
        counters.withLock { $0.openConnections -= 1 }
        metrics.connectionClosed()
    }

    func requestStarted() {
        counters.withLock { $0.inFlight += 1 }
        metrics.requestStarted()
    }

    func requestFinished() {
        counters.withLock { $0.inFlight -= 1 }
        metrics.requestFinished()
    }

    /// Counts an answered request (or an answered malformed frame) by result and operation.
    func answered(operation: String, result: String) {
        counters.withLock {
            $0.answered += 1
            $0.byResult[result, default: 0] += 1
            $0.byOperation[operation, default: 0] += 1
        }
        metrics.answered(operation: operation, result: result)
    }

    public var openConnections: Int { counters.withLock { $0.openConnections } }
    public var inFlight: Int { counters.withLock { $0.inFlight } }

    public func snapshot(now: ContinuousClock.Instant = .now) -> StatsResult {
        let uptime = now - started
        return counters.withLock { counters in
            StatsResult(
                uptimeMs: uptime.wholeMilliseconds,
                connections: .init(
                    open: counters.openConnections, accepted: counters.acceptedConnections,
                    refused: counters.refusedConnections),
                requests: .init(
                    inFlight: counters.inFlight, total: counters.answered, byResult: counters.byResult,
                    byOperation: counters.byOperation))
        }
    }

    /// One line for `sd_notify STATUS=`.
    public func statusLine() -> String {
        counters.withLock {
            "\($0.openConnections) connections, \($0.inFlight) requests in flight, \($0.answered) answered"
        }
    }
}
