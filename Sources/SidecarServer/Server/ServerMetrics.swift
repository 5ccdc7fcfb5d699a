import CoreMetrics
import Synchronization

/// The server's metrics, recorded through swift-metrics on the factory it is given (the
/// executable's Prometheus factory; a test's own). Labels are drawn from small fixed sets:
/// operation names (or `unknown`, `connect`) and `ok` or an error code; never anything a
/// client sent.
///
/// - `smtp_sidecar_requests_total{operation,result}`: answered requests.
/// - `smtp_sidecar_requests_in_flight`: requests being processed now.
/// - `smtp_sidecar_client_connections`: client connections open now.
/// - `smtp_sidecar_client_connections_accepted_total`, `…_refused_total`.
public final class ServerMetrics: Sendable {
    private let factory: any MetricsFactory
    private let inFlight: Meter
    private let connectionsOpen: Meter
    private let accepted: Counter
    private let refused: Counter
    /// One counter per (operation, result) seen, made once.
    private let requests = Mutex<[RequestKey: Counter]>([:])

    private struct RequestKey: Hashable {
        var operation: String
        var result: String
    }

    /// Metrics recorded on `factory`; `NOOPMetricsHandler.instance` records nothing.
    public init(factory: any MetricsFactory) {
        self.factory = factory
        inFlight = Meter(label: "smtp_sidecar_requests_in_flight", factory: factory)
        connectionsOpen = Meter(label: "smtp_sidecar_client_connections", factory: factory)
        accepted = Counter(label: "smtp_sidecar_client_connections_accepted_total", factory: factory)
        refused = Counter(label: "smtp_sidecar_client_connections_refused_total", factory: factory)
        // Present from the start, at zero, so that a scraper sees the series before traffic.
        inFlight.set(0)
        connectionsOpen.set(0)
    }

    /// Records nothing.
    public static let none = ServerMetrics(factory: NOOPMetricsHandler.instance)

    /// What each metric counts, for the `# HELP` lines of the Prometheus text.
    public static let help: [String: String] = [
        "smtp_sidecar_requests_total": "Requests answered, by operation and result (ok or the error code).",
        "smtp_sidecar_requests_in_flight": "Requests being processed now, over all client connections.",
        "smtp_sidecar_client_connections": "Client connections open now.",
        "smtp_sidecar_client_connections_accepted_total": "Client connections accepted (including refused ones).",
        "smtp_sidecar_client_connections_refused_total": "Client connections refused: peer not allowed, or too many.",
    ]

    func connectionAccepted() {
        accepted.increment()
        connectionsOpen.increment()
    }

    func connectionRefused() {
        refused.increment()
    }

    func connectionClosed() {
        connectionsOpen.decrement()
    }

    func requestStarted() {
        inFlight.increment()
    }

    func requestFinished() {
        inFlight.decrement()
    }

    func answered(operation: String, result: String) {
        let key = RequestKey(operation: operation, result: result)
        let counter = requests.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(
                label: "smtp_sidecar_requests_total", dimensions: [("operation", operation), ("result", result)],
                factory: factory)
            counters[key] = counter
            return counter
        }
        counter.increment()
    }
}
