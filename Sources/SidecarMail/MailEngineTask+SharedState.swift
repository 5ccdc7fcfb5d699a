import FoundationEssentials
import Logging
import SidecarStatePostgres

extension MailEngineTask {
    /// The shared database of `state_backend = postgres`: its connections, its schema, and
    /// every third of the lease the renewal of this host's sends in progress, the writing
    /// of outcomes an outage kept in memory, and the reading of other hosts' spent quotas.
    /// It runs first and so stops last: at shutdown it lets the outcomes of the last sends
    /// land (`flush`) before it closes the connections.
    static func sharedState(_ shared: SharedState, flush: @escaping @Sendable () async -> Void, logger: Logger) -> MailEngineTask {
        let (stop, stopping) = AsyncStream<Void>.makeStream()
        return MailEngineTask(
            run: {
                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        await shared.state.run {
                            await maintain(shared, logger: logger)
                        }
                    }
                    for await _ in stop {}
                    await flush()
                    group.cancelAll()
                }
            },
            shutdown: .call({ stopping.finish() }))
    }

    private static func maintain(_ shared: SharedState, logger: Logger) async {
        let interval = max(shared.state.configuration.lease / 3, .milliseconds(100))
        var failing = false
        while !Task.isCancelled {
            do {
                try await shared.dedup.maintain()
                try await shared.rateLimiter.refreshExhaustion(now: Date())
                if failing {
                    logger.notice("The shared state database answers again")
                    failing = false
                }
            } catch {
                if !failing {
                    logger.error("The shared state database is unavailable; sends are refused with state_unavailable until it answers", metadata: [
                        "error": "\(error)",
                    ])
                    failing = true
                }
            }
            try? await Task.sleep(for: interval)
        }
    }
}
