import Logging
import SidecarCore
import SidecarState

extension MailEngineTask {
    /// The state database's purge: at start-up and every `state_purge_interval_seconds`,
    /// until graceful shutdown cancels it.
    static func statePurge(_ purger: StatePurger, logger: Logger) -> MailEngineTask {
        MailEngineTask(
            run: {
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
            },
            shutdown: .cancel)
    }
}
