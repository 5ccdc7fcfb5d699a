import SidecarPool

/// The daemon's pool as ``PooledTransport`` uses it: ``PooledSMTPSessions`` on the concrete
/// pool of ``SMTPConnectionFactory`` connections. Through the generic conformance of
/// `ConnectionPool` (which the tests' fake pools use), every send ran the pool's generic
/// code unspecialized (about 10% more CPU a send in a release build); here each call is on
/// concrete types, so the optimizer specializes it.
struct SMTPSessionPool: PooledSMTPSessions {
    let pool: ConnectionPool<SMTPConnectionFactory, ContinuousClock>

    func withSession(
        key: SMTPPoolKey, destination: SMTPDestination, label: String, groups: [PoolShareGroup],
        deadline: ContinuousClock.Instant?, requireFresh: Bool,
        _ body: (Lease<any PooledSMTPSession>) async throws -> (TransportOutcome, ReleaseDisposition)
    ) async throws -> TransportOutcome {
        try await pool.withConnection(
            key: key, context: destination, label: label, groups: groups, deadline: deadline, requireFresh: requireFresh
        ) { lease in
            try await body(Lease(
                connection: lease.connection, connectionID: lease.connectionID, isReused: lease.isReused,
                needsHealthCheck: lease.needsHealthCheck, useCount: lease.useCount))
        }
    }

    func backOff(key: SMTPPoolKey, until: ContinuousClock.Instant) {
        pool.backOff(key: key, until: until)
    }

    func snapshot() -> PoolSnapshot { pool.snapshot() }

    func run() async { await pool.run() }

    func shutdown() { pool.shutdown() }
}
