/// A long-lived part of the ``MailEngine`` (the state purge, the connection pools), which
/// the daemon runs as one service of its service group. The engine knows no lifecycle
/// library: it says how the part runs and how it stops, the executable makes it a
/// `Service`.
public struct MailEngineTask: Sendable {
    /// How graceful shutdown stops the part.
    public enum Shutdown: Sendable {
        /// Cancel the task that runs it; the part returns at its next wait.
        case cancel
        /// Call this, and let ``MailEngineTask/run`` return once the part has finished its
        /// work (the pools: stop lending, let the sends in flight finish, QUIT the idle
        /// connections).
        case call(@Sendable () -> Void)
    }

    /// Runs the part until it is stopped.
    public let run: @Sendable () async -> Void
    public let shutdown: Shutdown

    init(run: @escaping @Sendable () async -> Void, shutdown: Shutdown) {
        self.run = run
        self.shutdown = shutdown
    }
}
