import SidecarProtocol

/// `credentials status` for a person: one line a credential, columns separated by tabs
/// (as `credentials list` prints), a header first. Pure, so that it is tested without a daemon.
enum CredentialStatusTable {
    static let header = ["WORKSPACE", "ID", "LABEL", "SERVER", "LAST SUCCESS", "LAST ERROR", "QUOTA", "POOL", "TOKEN"]

    static func lines(_ result: CredentialStatusResult) -> [String] {
        [header.joined(separator: "\t")] + result.credentials.map { row($0).joined(separator: "\t") }
    }

    static func row(_ credential: CredentialStatusResult.Credential) -> [String] {
        let error = credential.lastError.map { "\($0.code) at \($0.at)" } ?? "-"
        var quota: [String] = []
        if let rate = credential.quota.rate {
            quota.append("rate \(rate.used)/\(rate.limit) per \(period(rate.periodMs))")
        }
        if let daily = credential.quota.daily {
            quota.append("daily \(daily.used)/\(daily.limit), all free at \(daily.resetsAt)")
        }
        if let until = credential.quota.exhaustedUntil {
            quota.append("provider quota spent until \(until)")
        }
        let pool = credential.pool
        var token = "-"
        if let status = credential.token {
            if let failure = status.lastRefreshError {
                token = "refresh failed: \(failure)"
            } else if let expires = status.expiresAt {
                token = "expires \(expires)"
            }
        }
        return [
            credential.workspaceID, credential.id, credential.label.isEmpty ? "-" : credential.label,
            "\(credential.host):\(credential.port.map(String.init) ?? "-")", credential.lastSuccessAt ?? "-", error,
            quota.isEmpty ? "-" : quota.joined(separator: "; "),
            "\(pool.open) open, \(pool.idle) idle, \(pool.leased) leased, \(pool.waiting) waiting", token,
        ]
    }

    /// `1s`, `1m`, or milliseconds.
    static func period(_ ms: Int) -> String {
        if ms % 60_000 == 0 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(ms)ms"
    }
}
