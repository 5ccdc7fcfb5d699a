import Logging
import ServiceLifecycle
import SidecarCore
import SidecarMail
import SidecarState

/// Runs the state database's purge as a service: at start-up and every
/// `state_purge_interval_seconds`, until graceful shutdown.
struct StatePurgeService: Service {
    let purger: StatePurger
    let logger: Logger

    func run() async throws {
        let logger = logger
        await cancelWhenGracefulShutdown {
            await purger.run(clock: ContinuousClock()) { outcome in
                switch outcome {
                case .success(let report):
                    logger.debug("Purged expired state", metadata: [
                        "dedup_records_deleted": "\(report.dedupRecords)",
                        "rate_counters_deleted": "\(report.rateCounters)",
                    ])
                case .failure(let error):
                    logger.error("Purging expired state failed; retrying at the next interval", metadata: [
                        "error": "\(SidecarError(state: error).map { "\($0)" } ?? "\(error)")",
                    ])
                }
            }
        }
    }
}
