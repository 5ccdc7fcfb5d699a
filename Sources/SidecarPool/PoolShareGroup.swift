/// A group of pools that together may hold at most `limit` connections of the overall
/// budget (`maxConnectionsTotal`): the fair share of one tenant or one destination.
///
/// A pool belongs to the groups its first lease names (for SMTP: its workspace and its
/// server), so one workspace's slow server cannot take every connection of the daemon.
/// Connections count against each of their pool's groups from the moment creation starts
/// until they are reported closed, like against the other limits.
public struct PoolShareGroup: Hashable, Sendable, CustomStringConvertible {
    /// Names the group; pools naming the same id (and limit) share it.
    public var id: String
    /// Most connections the group's pools may have open together, at least 1.
    public var limit: Int

    public init(id: String, limit: Int) {
        precondition(limit >= 1, "PoolShareGroup: the limit must be at least 1")
        self.id = id
        self.limit = limit
    }

    public var description: String { "\(id) (at most \(limit))" }
}
