import SidecarStatePostgres

/// The shared database of `state_backend = postgres` and the stores on it: what the engine
/// runs (``MailEngineTask/sharedState(_:logger:)``) and what `stats` reports.
struct SharedState: Sendable {
    let state: PostgresState
    let dedup: PostgresDedupStore
    let rateLimiter: PostgresRateLimiter
}
