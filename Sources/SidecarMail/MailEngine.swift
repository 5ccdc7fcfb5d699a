import FoundationEssentials
import Logging
import NIOCore
import SidecarCore
import SidecarProtocol
import SidecarSMTP
import SidecarState
import SidecarStatePostgres

/// The mail engine as the daemon runs it, built from its ``MailConfiguration``: the
/// transport (warm pooled connections, or a new connection for every send), the send
/// policy's services over the state database, the ``MailOperations`` that the server's
/// routes call, and the long-lived services that go with them. The executable composes it
/// with the server and never sees the SMTP client, the pool, the egress guard or the state
/// store behind it.
public struct MailEngine: Sendable {
    /// `send` and `verify`.
    public let operations: MailOperations
    /// The engine's long-lived parts, to run in the daemon's service group in this order
    /// (and shut down in reverse): the state purge, then the pools when pooling is on.
    public let tasks: [MailEngineTask]
    /// The state store's backend and health, for `stats` and `STATUS=`.
    public let stateStatus: @Sendable () -> StatsResult.StateStore
    /// The pools' counters for `stats`; nil when pooling is off.
    public let poolStatistics: (@Sendable () -> [StatsResult.Pool])?
    /// Each credential's pools, summed, for `credential_status`; empty when pooling is off.
    let credentialPools: @Sendable () -> [TransportRoute: CredentialStatusResult.Pool]
    /// Brings the metrics that are read rather than counted (the pools' gauges and totals)
    /// up to date; called before each rendering of the registry.
    public let updateMetrics: @Sendable () -> Void
    let dedup: (any DedupStoring)?
    /// The shared database, with `state_backend = postgres`.
    let shared: SharedState?

    /// Builds the engine. Nothing runs until ``tasks`` do.
    ///
    /// - Throws: `invalid_configuration` when the configuration cannot be put to work (an
    ///   `egress_allowed_cidrs` entry that is no CIDR, a state directory or a credential key
    ///   that cannot be opened), with a message that says which.
    public init(
        configuration: MailConfiguration, eventLoopGroup: any EventLoopGroup, metrics: MailMetrics = .none, logger: Logger
    ) throws(SidecarError) {
        let pooled: PooledTransport? =
            configuration.poolEnabled
            ? PooledTransport(
                configuration: configuration.pool, eventLoopGroup: eventLoopGroup,
                maxConnectionsPerWorkspace: configuration.poolMaxConnectionsPerWorkspace,
                maxConnectionsPerServer: configuration.poolMaxConnectionsPerServer, logger: logger)
            : nil
        let transport: any MailTransport = pooled ?? DirectTransport(eventLoopGroup: eventLoopGroup)
        let (policy, shared) = try PolicySetup.policy(configuration, logger: logger)
        operations = MailOperations(
            settings: MailSettings(clientName: configuration.smtpClientName ?? Self.defaultClientName()),
            transport: transport, policy: policy, metrics: metrics)
        dedup = policy.dedup
        let purger = StatePurger(
            dedup: policy.dedup, rateLimiter: policy.rateLimiter,
            interval: .seconds(configuration.statePurgeIntervalSeconds))
        var tasks: [MailEngineTask] = [.statePurge(purger, logger: logger)]
        if let shared {
            // First, so that it stops last.
            let dedup = policy.dedup
            tasks.insert(.sharedState(shared, flush: { await dedup?.flush() }, logger: logger), at: 0)
        }
        self.shared = shared
        stateStatus = {
            guard let shared else { return StatsResult.StateStore(backend: "sqlite", available: true) }
            let health = shared.state.currentHealth
            return StatsResult.StateStore(
                backend: "postgres", available: health.available, schemaVersion: health.schemaVersion,
                lastError: health.available ? nil : health.lastError)
        }
        if let pooled {
            tasks.append(.pools(pooled))
            poolStatistics = { pooled.statistics() }
            credentialPools = { pooled.credentialPools() }
            updateMetrics = { metrics.recordPools(pooled.totals()) }
        } else {
            poolStatistics = nil
            credentialPools = { [:] }
            updateMetrics = {}
        }
        self.tasks = tasks
    }

    /// `credential_status`: the stored credentials' health, as this daemon knows it.
    public func credentialStatus(_ params: CredentialStatusParams, logger: Logger) async -> Response.Outcome {
        await operations.credentialStatus(params, pools: credentialPools(), logger: logger)
    }

    /// Where the server parses large requests (a big attachment in the frame) off the event
    /// loops: the threads that compose streamed message bodies.
    public static var largeRequestExecutor: any TaskExecutor { BodyTaskExecutor.shared }

    /// Lets the outcomes of the last sends land: they are committed to the state database
    /// without being awaited. The daemon calls it once its services have stopped.
    public func flush() async {
        await dedup?.flush()
    }

    /// This machine's host name if it is fully qualified (what EHLO wants), else the
    /// address literal `[127.0.0.1]`, which every server accepts syntactically.
    static func defaultClientName() -> String {
        let name = ProcessInfo.processInfo.hostName
        return name.contains(".") && name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" })
            ? name : SMTPConfiguration.defaultClientName
    }
}
