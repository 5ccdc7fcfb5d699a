import NIOCore
import SidecarCore
import SidecarMessage
import SidecarPool
import SidecarSMTP

/// What ``PooledTransport`` does with a pooled connection: an ``SMTPConnection``, or a
/// test's fake, so that the transport's retry, check and back-off rules run without a network.
protocol PooledSMTPSession: Sendable {
    /// RSET: whether a connection that sat idle still answers.
    func reset(deadline: NIODeadline?) async throws(SidecarError)

    /// One transaction; `beforeContent` is awaited before the message's content leaves, or
    /// before anything is written when `gateFirst` (see
    /// ``SMTPConnection/send(_:recipients:options:deadline:beforeContent:gateFirst:)``).
    func send(
        _ message: ComposedMessage, recipients: [String]?, options: SMTPSendOptions, deadline: NIODeadline?,
        beforeContent: SMTPContentGate?, gateFirst: Bool
    ) async -> SMTPSendResult

    /// What the session showed so far, for whether it may serve another send.
    var retirement: ConnectionRetirement { get }
}

extension SMTPConnection: PooledSMTPSession {
    var retirement: ConnectionRetirement { ConnectionRetirement(self) }
}

/// The pool as ``PooledTransport`` uses it, whatever makes its connections: the daemon's
/// pool of ``SMTPConnectionFactory`` connections, or in tests one whose factory is a fake.
protocol PooledSMTPSessions: Sendable {
    /// Lends a session for `key` to `body` (see ``ConnectionPool/withConnection(key:context:label:groups:deadline:requireFresh:isolation:_:)``).
    func withSession(
        key: SMTPPoolKey, destination: SMTPDestination, label: String, groups: [PoolShareGroup],
        deadline: ContinuousClock.Instant?, requireFresh: Bool,
        _ body: (Lease<any PooledSMTPSession>) async throws -> (TransportOutcome, ReleaseDisposition)
    ) async throws -> TransportOutcome

    func backOff(key: SMTPPoolKey, until: ContinuousClock.Instant)
    func snapshot() -> PoolSnapshot
    func run() async
    func shutdown()
}

extension ConnectionPool: PooledSMTPSessions
where
    Factory.Key == SMTPPoolKey, Factory.Context == SMTPDestination, Factory.Connection: PooledSMTPSession,
    PoolClock == ContinuousClock
{
    func withSession(
        key: SMTPPoolKey, destination: SMTPDestination, label: String, groups: [PoolShareGroup],
        deadline: ContinuousClock.Instant?, requireFresh: Bool,
        _ body: (Lease<any PooledSMTPSession>) async throws -> (TransportOutcome, ReleaseDisposition)
    ) async throws -> TransportOutcome {
        try await withConnection(
            key: key, context: destination, label: label, groups: groups, deadline: deadline, requireFresh: requireFresh
        ) { lease in
            try await body(Lease(
                connection: lease.connection, connectionID: lease.connectionID, isReused: lease.isReused,
                needsHealthCheck: lease.needsHealthCheck, useCount: lease.useCount))
        }
    }
}
