import FoundationEssentials
import SidecarCore
import SidecarState

extension SidecarError {
    /// A send refused locally: the provider said the credential's daily quota is spent.
    init(quotaSpent exhausted: QuotaExhaustion, now: Date) {
        let wait = max(0, exhausted.until.timeIntervalSince(now))
        self.init(
            code: .quotaExceeded,
            message: "The provider said this account's daily sending quota is spent (\(exhausted.reason)); the sidecar "
                + "refuses its sends without connecting until \(exhausted.until.formatted(.iso8601)). Nothing was sent.",
            retryable: true, retryAfterMs: Int(wait * 1000))
    }
}
