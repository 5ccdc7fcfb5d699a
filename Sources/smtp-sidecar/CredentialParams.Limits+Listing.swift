import SidecarProtocol

extension CredentialParams.Limits {
    /// How `credentials list` shows the limits: `gmail 60/min 500/day`, `-` for none.
    static func listed(_ limits: Self?) -> String {
        guard let limits else { return "-" }
        let parts = [limits.preset, limits.perMinute.map { "\($0)/min" }, limits.daily.map { "\($0)/day" }].compactMap { $0 }
        return parts.isEmpty ? "-" : parts.joined(separator: " ")
    }
}
