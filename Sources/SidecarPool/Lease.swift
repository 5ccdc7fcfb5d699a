/// A connection lent to one caller, for one unit of work, until it is released.
public struct Lease<Connection: Sendable>: Sendable {
    /// The connection. It belongs to the pool: do not keep it after the lease is released.
    public let connection: Connection
    public let connectionID: PoolConnectionID
    /// Whether the connection served an earlier lease (false for a freshly made one).
    public let isReused: Bool
    /// Whether the connection sat idle at least `checkAfterIdle`: check it is still alive
    /// (SMTP: RSET) before relying on it.
    public let needsHealthCheck: Bool
    /// How many leases this connection has served, this one included (1 when fresh).
    public let useCount: Int

    public init(
        connection: Connection,
        connectionID: PoolConnectionID,
        isReused: Bool,
        needsHealthCheck: Bool,
        useCount: Int
    ) {
        self.connection = connection
        self.connectionID = connectionID
        self.isReused = isReused
        self.needsHealthCheck = needsHealthCheck
        self.useCount = useCount
    }
}

extension Lease: Equatable where Connection: Equatable {}
