/// A connection lent to one caller, for one unit of work, until it is released.
package struct Lease<Connection: Sendable>: Sendable {
    /// The connection. It belongs to the pool: do not keep it after the lease is released.
    package let connection: Connection
    package let connectionID: PoolConnectionID
    /// Whether the connection served an earlier lease (false for a freshly made one).
    package let isReused: Bool
    /// Whether the connection sat idle at least `checkAfterIdle`: check it is still alive
    /// (SMTP: RSET) before relying on it.
    package let needsHealthCheck: Bool
    /// How many leases this connection has served, this one included (1 when fresh).
    package let useCount: Int

    package init(
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
