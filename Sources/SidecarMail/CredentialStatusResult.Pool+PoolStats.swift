import SidecarPool
import SidecarProtocol

extension CredentialStatusResult.Pool {
    /// Adds one of the credential's pools.
    mutating func add(_ stats: PoolStats) {
        pools += 1
        open += stats.open
        idle += stats.idle
        leased += stats.leased
        waiting += stats.waiting
        connectionsCreated += stats.connectionsCreated
        reuses += stats.reuses
        creationFailures += stats.creationFailures
        discards += stats.discards
        backoffs += stats.backoffs
    }
}
