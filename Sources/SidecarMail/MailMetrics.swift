import CoreMetrics
import SidecarCore
import SidecarPool
import SidecarProtocol
import Synchronization

/// The mail engine's metrics, recorded through swift-metrics on the factory it is given
/// (the executable's Prometheus factory; a test's own). Every label comes from a small
/// fixed set (an outcome, an error code, a stage, a connection state): never a workspace,
/// a credential, a host, an address or a message id.
///
/// - `smtp_sidecar_sends_total{outcome,code}`: answered `send` requests, duplicates excepted;
///   `outcome` is `sent`, `not_sent` or `outcome_unknown`, `code` the error code or `none`.
/// - `smtp_sidecar_send_duration_seconds{stage}`: for sends that reached the SMTP transport,
///   `connect` (a connection in hand), `transaction` (MAIL FROM to the final reply) and `total`
///   (from the request's arrival).
/// - `smtp_sidecar_dedup_duplicates_total{outcome}`: sends answered with an identical send's result.
/// - `smtp_sidecar_rate_limited_sends_total{code}`: sends refused by this daemon's rate limits
///   (`rate_limited`) or a provider's spent quota it remembers (`quota_exceeded`).
/// - `smtp_sidecar_state_errors_total{code}`: state store failures (`state_unavailable`,
///   `internal_error`), whether or not they refused the send.
/// - `smtp_sidecar_pool_connections{state}` (`open`, `idle`, `leased`) and the counters
///   `smtp_sidecar_pool_connections_created_total`, `…_pool_connection_creation_failures_total`,
///   `…_pool_connection_reuses_total`, `…_pool_connection_discards_total`,
///   `…_pool_backoffs_total`: summed over every pool (no per-pool label), brought up to date by
///   ``MailEngine/updateMetrics()`` before each rendering.
public final class MailMetrics: Sendable {
    private let factory: any MetricsFactory
    private let connectDuration: Timer
    private let transactionDuration: Timer
    private let totalDuration: Timer
    private let poolOpen: Gauge
    private let poolIdle: Gauge
    private let poolLeased: Gauge
    private let poolCreated: Counter
    private let poolCreationFailures: Counter
    private let poolReuses: Counter
    private let poolDiscards: Counter
    private let poolBackoffs: Counter
    /// Counters by label and label values, made once each.
    private let counters = Mutex<[CounterKey: Counter]>([:])
    /// The pools' totals last recorded: counters advance by the difference.
    private let poolTotals = Mutex(PoolStats(label: "total"))

    private struct CounterKey: Hashable {
        var label: String
        var dimensions: [String]
    }

    /// Metrics recorded on `factory`; `NOOPMetricsHandler.instance` records nothing.
    public init(factory: any MetricsFactory) {
        self.factory = factory
        let duration = "smtp_sidecar_send_duration_seconds"
        connectDuration = Timer(label: duration, dimensions: [("stage", "connect")], factory: factory)
        transactionDuration = Timer(label: duration, dimensions: [("stage", "transaction")], factory: factory)
        totalDuration = Timer(label: duration, dimensions: [("stage", "total")], factory: factory)
        let connections = "smtp_sidecar_pool_connections"
        poolOpen = Gauge(label: connections, dimensions: [("state", "open")], factory: factory)
        poolIdle = Gauge(label: connections, dimensions: [("state", "idle")], factory: factory)
        poolLeased = Gauge(label: connections, dimensions: [("state", "leased")], factory: factory)
        poolCreated = Counter(label: "smtp_sidecar_pool_connections_created_total", factory: factory)
        poolCreationFailures = Counter(label: "smtp_sidecar_pool_connection_creation_failures_total", factory: factory)
        poolReuses = Counter(label: "smtp_sidecar_pool_connection_reuses_total", factory: factory)
        poolDiscards = Counter(label: "smtp_sidecar_pool_connection_discards_total", factory: factory)
        poolBackoffs = Counter(label: "smtp_sidecar_pool_backoffs_total", factory: factory)
    }

    /// Records nothing.
    public static let none = MailMetrics(factory: NOOPMetricsHandler.instance)

    /// What each metric counts, for the `# HELP` lines of the Prometheus text.
    public static let help: [String: String] = [
        "smtp_sidecar_sends_total": "Send requests answered, duplicates excepted, by outcome and error code (none if sent).",
        "smtp_sidecar_send_duration_seconds":
            "Sends that reached the SMTP server: time to a connection, of the SMTP transaction, and of the whole request.",
        "smtp_sidecar_dedup_duplicates_total": "Sends answered with an identical earlier send's result, by its outcome.",
        "smtp_sidecar_rate_limited_sends_total":
            "Sends refused by the daemon's rate limits (rate_limited) or a provider's spent quota (quota_exceeded).",
        "smtp_sidecar_state_errors_total": "Failures of the state store (dedup records, rate counters, credentials), by code.",
        "smtp_sidecar_pool_connections": "Pooled SMTP connections now, over all pools, by state (open, idle, leased).",
        "smtp_sidecar_pool_connections_created_total": "Pooled SMTP connections opened.",
        "smtp_sidecar_pool_connection_creation_failures_total": "Pooled SMTP connections that failed to open.",
        "smtp_sidecar_pool_connection_reuses_total": "Sends on a warm pooled connection.",
        "smtp_sidecar_pool_connection_discards_total": "Pooled connections destroyed after a doubtful state.",
        "smtp_sidecar_pool_backoffs_total": "Times a server asked for fewer connections or a pause (421, 4.7.x).",
    ]

    private func increment(_ label: String, _ dimensions: KeyValuePairs<String, String>) {
        let key = CounterKey(label: label, dimensions: dimensions.flatMap { [$0.key, $0.value] })
        let counter = counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(label: label, dimensions: dimensions.map { ($0.key, $0.value) }, factory: factory)
            counters[key] = counter
            return counter
        }
        counter.increment()
    }

    /// One answered `send`, from its response: a duplicate is counted as one, any other
    /// send by its outcome and error code.
    func sendAnswered(_ response: Response.Outcome) {
        let result: SendResult?
        let code: ErrorCode?
        switch response {
        case .success(let value):
            result = value as? SendResult
            code = result?.error?.code
        case .failure(let error, let partial):
            result = partial as? SendResult
            code = error.code
        }
        let outcome = (result?.outcome ?? .notSent).rawValue
        if result?.duplicate == true {
            increment("smtp_sidecar_dedup_duplicates_total", ["outcome": outcome])
        } else {
            increment("smtp_sidecar_sends_total", ["outcome": outcome, "code": code?.rawValue ?? "none"])
        }
    }

    /// The stages of a send that reached the SMTP transport.
    func sendTimed(connect: Duration, transaction: Duration, total: Duration) {
        connectDuration.recordNanoseconds(connect.nanoseconds)
        transactionDuration.recordNanoseconds(transaction.nanoseconds)
        totalDuration.recordNanoseconds(total.nanoseconds)
    }

    /// A send refused by a local rate limit (`rate_limited`) or a remembered spent quota
    /// (`quota_exceeded`).
    func rateLimited(_ code: ErrorCode) {
        increment("smtp_sidecar_rate_limited_sends_total", ["code": code.rawValue])
    }

    /// A state store failure, as the send words it.
    func stateFailed(_ error: SidecarError) {
        // A send cancelled by the daemon's stop is no failure of the store.
        guard error.code != .shuttingDown else { return }
        increment("smtp_sidecar_state_errors_total", ["code": error.code.rawValue])
    }

    /// Brings the pool metrics up to `totals` (over every pool, including those since
    /// forgotten, so the counters only grow).
    func recordPools(_ totals: PoolStats) {
        // Under the lock, so that two renderings at once cannot count a difference twice
        // (an older snapshot never moves a counter back).
        poolTotals.withLock { last in
            poolOpen.record(totals.open)
            poolIdle.record(totals.idle)
            poolLeased.record(totals.leased)
            Self.advance(poolCreated, &last.connectionsCreated, to: totals.connectionsCreated)
            Self.advance(poolCreationFailures, &last.creationFailures, to: totals.creationFailures)
            Self.advance(poolReuses, &last.reuses, to: totals.reuses)
            Self.advance(poolDiscards, &last.discards, to: totals.discards)
            Self.advance(poolBackoffs, &last.backoffs, to: totals.backoffs)
        }
    }

    private static func advance(_ counter: Counter, _ recorded: inout Int, to total: Int) {
        guard total > recorded else { return }
        counter.increment(by: total - recorded)
        recorded = total
    }
}

extension Duration {
    /// Whole nanoseconds, for swift-metrics' timers.
    fileprivate var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
