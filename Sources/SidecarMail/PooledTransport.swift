import Logging
import NIOCore
import SidecarCore
import SidecarMessage
import SidecarPool
import SidecarProtocol
import SidecarSMTP
import Synchronization

/// Sends over warm pooled connections: a send skips TCP, TLS, EHLO and AUTH.
///
/// - A connection idle longer than the pool's `checkAfterIdle` is checked with RSET first,
///   within ``healthCheckTimeout`` (and at most half the request's time left): a server
///   that does not answer costs that, the connection is discarded and the send goes on a
///   fresh one.
/// - A connection that ended in a doubtful state (timeout, protocol error, 421, the body
///   sent without a final reply) is destroyed, never reused.
/// - When a reused connection fails before any recipient was accepted, the send is retried
///   once on a fresh connection: a stale connection is not the user's error. Never after
///   the body went out.
/// - When the server closed the session (421) after refusing recipients, before it took
///   the message (its per-session error limit), the message goes again on a fresh
///   connection to the others (``SMTPRefusalRetry``); the refused ones are reported.
/// - 421, 454 and 4.7.x "try later" replies lower the pool's connection count for a while.
/// - No workspace and no server may hold more than its fair share of the overall
///   connection budget (default half of it each), so that one workspace's slow server
///   cannot starve the others; a connection attempt whose request's deadline passed is
///   abandoned and its slot given back.
public final class PooledTransport: MailTransport {
    /// The daemon's pool of ``SMTPConnectionFactory`` connections; in tests, one of fakes.
    let pool: any PooledSMTPSessions
    /// Verifications and TLS handshake counts; pooled connections come from `pool`.
    let factory: SMTPConnectionFactory
    let fingerprintKey = SecretFingerprint.Key.random()
    let backOffDuration: Duration
    /// Most pooled connections one workspace, and one server, may hold together.
    let maxConnectionsPerWorkspace: Int
    let maxConnectionsPerServer: Int
    /// The most an RSET check of an idle connection may take (default 5 s). A healthy
    /// server answers in one round trip.
    let healthCheckTimeout: Duration
    private let failures = Mutex<[String: [String: Int]]>([:])
    /// Each pool label's workspace and credential, for `credential_status` (a label is text
    /// for people; this is what it was made of); nil for a label two routes share (ids with
    /// slashes: `a/b` + `c` and `a` + `b/c`), whose pools are then nobody's. As many as the
    /// labels there have been.
    private let routes = Mutex<[String: TransportRoute?]>([:])
    /// Sends inside ``send(_:options:destination:route:deadline:beforeTransaction:logger:)``
    /// now, waiting for a connection or on one: whether a send is alone (see ``attempt``).
    private let sending = Atomic<Int>(0)

    /// - Parameters:
    ///   - maxConnectionsPerWorkspace: the fair share of one workspace's pools; default half
    ///     of `configuration.maxConnectionsTotal` (at least 1).
    ///   - maxConnectionsPerServer: likewise for all pools to one server (host and port).
    public convenience init(
        configuration: PoolConfiguration, eventLoopGroup: any EventLoopGroup, tlsContextCache: TLSContextCache = .shared,
        backOffDuration: Duration = .seconds(60), maxConnectionsPerWorkspace: Int? = nil,
        maxConnectionsPerServer: Int? = nil, healthCheckTimeout: Duration = .seconds(5), logger: Logger
    ) {
        let factory = SMTPConnectionFactory(eventLoopGroup: eventLoopGroup, tlsContextCache: tlsContextCache, logger: logger)
        self.init(
            pool: SMTPSessionPool(pool: ConnectionPool(configuration: configuration, factory: factory)),
            configuration: configuration,
            factory: factory, backOffDuration: backOffDuration, maxConnectionsPerWorkspace: maxConnectionsPerWorkspace,
            maxConnectionsPerServer: maxConnectionsPerServer, healthCheckTimeout: healthCheckTimeout)
    }

    /// Sends over `pool`'s sessions (tests: a pool whose factory is a fake); `factory` still
    /// serves ``verify(destination:deadline:logger:)`` and the TLS handshake counts.
    init(
        pool: any PooledSMTPSessions, configuration: PoolConfiguration, factory: SMTPConnectionFactory,
        backOffDuration: Duration = .seconds(60), maxConnectionsPerWorkspace: Int? = nil,
        maxConnectionsPerServer: Int? = nil, healthCheckTimeout: Duration = .seconds(5)
    ) {
        self.pool = pool
        self.factory = factory
        self.backOffDuration = backOffDuration
        self.healthCheckTimeout = healthCheckTimeout
        let half = max(1, configuration.maxConnectionsTotal / 2)
        self.maxConnectionsPerWorkspace = max(1, maxConnectionsPerWorkspace ?? half)
        self.maxConnectionsPerServer = max(1, maxConnectionsPerServer ?? half)
    }

    /// The share groups of a pool: its workspace and its server.
    func shareGroups(_ key: SMTPPoolKey) -> [PoolShareGroup] {
        [
            PoolShareGroup(id: "workspace \(key.route.workspaceID)", limit: maxConnectionsPerWorkspace),
            PoolShareGroup(id: "server \(key.host):\(key.port)", limit: maxConnectionsPerServer),
        ]
    }

    /// Drives the pool (timers, opening and closing connections) until ``shutdown()``
    /// has closed every connection.
    public func run() async {
        await pool.run()
    }

    /// Stops lending connections: sends in flight finish, idle connections get QUIT.
    public func shutdown() {
        pool.shutdown()
    }

    public func send(
        _ message: ComposedMessage, options: SMTPSendOptions, destination: SMTPDestination, route: TransportRoute,
        deadline: NIODeadline?, beforeTransaction: BeforeTransaction?, logger: Logger
    ) async -> TransportOutcome {
        let key = SMTPPoolKey(
            configuration: destination.configuration, route: route, fingerprintKey: fingerprintKey, oauth: destination.oauth)
        let label = key.label
        routes.withLock { routes in
            switch routes[label] {
            case nil: routes[label] = .some(route)
            case let known?? where known != route: routes[label] = .some(nil)
            case .some: break
            }
        }
        var logger = logger
        logger[metadataKey: "smtp_pool"] = "\(label)"
        sending.add(1, ordering: .relaxed)
        defer { sending.subtract(1, ordering: .relaxed) }

        /// Once more, on a fresh connection: the time already spent counts as connecting.
        func again(after first: TransportOutcome, recipients: [String]? = nil) async -> TransportOutcome {
            var outcome = await attempt(
                message, recipients: recipients, options: options, key: key, destination: destination, deadline: deadline,
                fresh: true, beforeTransaction: beforeTransaction, logger: logger)
            outcome.connect += first.connect + first.transaction
            outcome.retried = true
            return outcome
        }
        var outcome = await attempt(
            message, recipients: nil, options: options, key: key, destination: destination, deadline: deadline,
            fresh: false, beforeTransaction: beforeTransaction, logger: logger)
        if outcome.reusedConnection, Self.isStaleConnectionFailure(outcome.result),
            !SMTPRefusalRetry.closedAfterRefusals(outcome.result)
        {
            logger.debug("A reused connection failed before any recipient was accepted; retrying on a fresh one")
            outcome = await again(after: outcome)
        }
        if destination.oauth != nil, Self.isRefusedToken(outcome.result) {
            // The server refused the token (revoked early, or a clock off): the broker has
            // dropped it; once more on a fresh connection, with a new one.
            logger.debug("The server refused the access token; retrying once with a new one")
            outcome = await again(after: outcome)
        }
        var refusals = SMTPRefusalRetry(recipients: message.envelope.recipients)
        decided: while true {
            switch refusals.next(after: outcome.result) {
            case .finish(let result):
                outcome.result = result
                break decided
            case .retry(let recipients):
                logger.debug(
                    "The server closed the session after refusing recipients; sending to the others on a fresh connection",
                    metadata: ["smtp_recipients_left": "\(recipients.count)"])
                outcome = await again(after: outcome, recipients: recipients)
            }
        }
        if let error = outcome.result.error {
            failures.withLock { $0[key.label, default: [:]][error.code.rawValue, default: 0] += 1 }
            if Self.isThrottling(error) {
                logger.notice("The server asked to slow down; lowering this pool's connection count for a while",
                              metadata: ["smtp_reply_code": "\(error.smtp?.code ?? 0)"])
                pool.backOff(key: key, until: .now + backOffDuration)
            }
        }
        return outcome
    }

    private func attempt(
        _ message: ComposedMessage, recipients: [String]?, options: SMTPSendOptions, key: SMTPPoolKey,
        destination: SMTPDestination, deadline: NIODeadline?, fresh: Bool, beforeTransaction: BeforeTransaction?,
        logger: Logger
    ) async -> TransportOutcome {
        let clock = ContinuousClock()
        let started = clock.now
        let poolDeadline = deadline.map { clock.now + .nanoseconds(($0 - .now()).nanoseconds) }
        do {
            return try await pool.withSession(
                key: key, destination: destination, label: key.label, groups: shareGroups(key), deadline: poolDeadline,
                requireFresh: fresh
            ) {
                lease in
                let connection = lease.connection
                if lease.needsHealthCheck {
                    let now = NIODeadline.now()
                    do throws(SidecarError) {
                        try await connection.reset(deadline: Self.checkDeadline(request: deadline, bound: healthCheckTimeout, now: now))
                    } catch {
                        var error = error
                        if error.code == .requestTimeout, deadline.map({ NIODeadline.now() < $0 }) ?? true {
                            // The check's own bound, not the request's: a stale connection,
                            // and time is left to send on a fresh one.
                            error = SidecarError(
                                code: .timeout, message: "The idle connection did not answer its RSET check in time.",
                                retryable: true)
                        }
                        let failure = SMTPSendFailure(error: error, phase: .reset)
                        return (
                            TransportOutcome(
                                result: .notSent(failure), connect: clock.now - started, transaction: .zero,
                                reusedConnection: true),
                            .discard
                        )
                    }
                }
                if lease.isReused, connection.retirement.credentialsExpired {
                    // Authenticated with an access token that has expired since: retired,
                    // and the send goes on a fresh connection with a current token.
                    let failure = SMTPSendFailure(
                        error: SidecarError(
                            code: .connectionFailed, message: "The pooled connection's access token expired.", retryable: true),
                        phase: .reset)
                    return (
                        TransportOutcome(
                            result: .notSent(failure), connect: clock.now - started, transaction: .zero, reusedConnection: true),
                        .retire
                    )
                }
                // The step before the transaction (the dedup mark: a thread hand-over and an
                // fsync). A send alone runs it while its envelope goes ahead: its latency hides
                // behind the server's reading of the envelope. Among other sends the
                // transaction waits for it and leaves in one write: one write and one read
                // fewer per send, here and at the server, which is what throughput is made of
                // when sends queue for the CPU and the connections (measured in #21's note).
                let gateFirst = beforeTransaction != nil && sending.load(ordering: .relaxed) > 1
                let step = gateFirst ? nil : beforeTransaction.map(ConcurrentStep.init)
                let leased = clock.now
                let result = await connection.send(
                    message, recipients: recipients, options: options, deadline: deadline,
                    beforeContent: gateFirst ? beforeTransaction : step?.gate, gateFirst: gateFirst)
                await step?.settle()
                let outcome = TransportOutcome(
                    result: result, connect: leased - started, transaction: clock.now - leased,
                    reusedConnection: lease.isReused)
                return (outcome, connection.retirement.disposition)
            }
        } catch let failure as SMTPFailure {
            return TransportOutcome(
                result: .notSent(SMTPSendFailure(error: failure.error, phase: failure.phase)),
                connect: clock.now - started, transaction: .zero)
        } catch let error as ConnectionPoolError {
            // The request's deadline passed while it waited for the pool: if a connection was
            // being opened for this key, the phase is how far that got (as without the pool).
            let phase = error.code == .deadlineExceeded ? factory.setupProgress.phase(for: key) ?? .connect : .connect
            return TransportOutcome(
                result: .notSent(SMTPSendFailure(error: SidecarError(error), phase: phase)), connect: clock.now - started,
                transaction: .zero)
        } catch let error as SidecarError {
            return TransportOutcome(
                result: .notSent(SMTPSendFailure(error: error, phase: .connect)), connect: clock.now - started,
                transaction: .zero)
        } catch {
            let error = SidecarError(code: .requestTimeout, message: "The send was cancelled before it started.", retryable: true)
            return TransportOutcome(
                result: .notSent(SMTPSendFailure(error: error, phase: .connect)), connect: clock.now - started,
                transaction: .zero)
        }
    }

    public func verify(destination: SMTPDestination, deadline: NIODeadline?, logger: Logger) async throws(SMTPFailure)
        -> SMTPCapabilities
    {
        // A verification must prove the credential works now: always a fresh connection.
        let (configuration, token) = try await destination.authenticatedConfiguration(deadline: deadline)
        do {
            return try await SMTPClient.verify(
                configuration: configuration, eventLoopGroup: factory.eventLoopGroup, logger: logger, deadline: deadline,
                tlsContextCache: factory.tlsContextCache)
        } catch {
            destination.report(error, token: token)
            throw error
        }
    }

    /// Sums over every pool, including pools since forgotten, for the metrics.
    func totals() -> PoolStats {
        pool.snapshot().totals
    }

    /// Per-pool counters for `stats`.
    public func statistics() -> [StatsResult.Pool] {
        let snapshot = pool.snapshot()
        let failures = failures.withLock { $0 }
        return snapshot.pools.map { pool in
            StatsResult.Pool(
                label: pool.label, open: pool.open, idle: pool.idle, leased: pool.leased, waiting: pool.waiting,
                connectionsCreated: pool.connectionsCreated, reuses: pool.reuses,
                tlsHandshakes: factory.tlsHandshakes(label: pool.label), creationFailures: pool.creationFailures,
                discards: pool.discards, backoffs: pool.backoffs, failuresByCode: failures[pool.label] ?? [:])
        }
    }

    /// The pools of each stored or named credential, summed (a pool per server setting and
    /// secret), for `credential_status`.
    public func credentialPools() -> [TransportRoute: CredentialStatusResult.Pool] {
        let snapshot = pool.snapshot()
        let routes = routes.withLock { $0 }
        var sums: [TransportRoute: CredentialStatusResult.Pool] = [:]
        for pool in snapshot.pools {
            guard let route = routes[pool.label] ?? nil, !route.credentialID.isEmpty else { continue }
            sums[route, default: .init()].add(pool)
        }
        return sums
    }

    /// When an RSET check started at `now` must have its answer: within `bound`, and within
    /// half the request's time left, so that a send on a fresh connection has the other half.
    static func checkDeadline(request: NIODeadline?, bound: Duration, now: NIODeadline) -> NIODeadline {
        let bounded = now + TimeAmount(bound)
        guard let request else { return bounded }
        let half = now + .nanoseconds(max(0, (request - now).nanoseconds / 2))
        return min(bounded, half)
    }

    /// A reused connection that failed before any recipient was accepted, in a way a fresh
    /// connection could fix (dropped, timed out, 421, a failed RSET check).
    static func isStaleConnectionFailure(_ result: SMTPSendResult) -> Bool {
        guard case .notSent(let failure) = result, !failure.recipients.contains(where: \.accepted) else { return false }
        switch failure.phase {
        case .reset, .mail, .rcpt:
            return [ErrorCode.connectionFailed, .timeout, .protocolViolation].contains(failure.error.code)
                || failure.error.smtp?.code == 421
        case .connect, .greeting, .tls, .ehlo, .auth, .data, .quit:
            return false
        }
    }

    /// The server refused the credentials while the connection was set up (AUTH).
    static func isRefusedToken(_ result: SMTPSendResult) -> Bool {
        guard case .notSent(let failure) = result else { return false }
        return failure.phase == .auth && failure.error.code == .authFailed
    }

    /// 421, 432, 454 and 4.7.x: the provider wants fewer connections or a pause.
    static func isThrottling(_ error: SidecarError) -> Bool {
        guard let reply = error.smtp else { return false }
        return reply.code == 421 || reply.code == 432 || reply.code == 454
            || (reply.isTransientFailure && reply.enhancedCode?.hasPrefix("4.7.") == true)
    }
}
