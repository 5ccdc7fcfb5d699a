import ServiceLifecycle

/// Keeps the supervisor informed while the daemon runs: `STATUS=` with live counts every
/// interval, and `WATCHDOG=1` at half the watchdog interval when one is set.
public struct StatusReporter: Service {
    let notifier: any LifecycleNotifier
    let stats: ServerStats
    let interval: Duration
    /// More for the line (the state store's health), appended after a semicolon.
    let detail: (@Sendable () -> String)?

    public init(
        notifier: any LifecycleNotifier, stats: ServerStats, interval: Duration, detail: (@Sendable () -> String)? = nil
    ) {
        self.notifier = notifier
        self.stats = stats
        self.interval = interval
        self.detail = detail
    }

    public func run() async throws {
        let tick = notifier.watchdogInterval.map { min(interval, $0 / 2) } ?? interval
        // The server sends the first STATUS= with READY=1; this keeps it current.
        var lastStatus = ContinuousClock.now
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let now = ContinuousClock.now
            if now - lastStatus >= interval {
                notifier.status(detail.map { "\(stats.statusLine()); \($0())" } ?? stats.statusLine())
                lastStatus = now
            }
            if notifier.watchdogInterval != nil {
                notifier.watchdog()
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: tick) }
            } catch {
                return
            }
        }
    }
}
