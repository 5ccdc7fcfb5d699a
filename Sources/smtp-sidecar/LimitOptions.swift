import ArgumentParser
import SidecarCore
import SidecarProtocol

/// The rate-limit flags of `credentials add` and `rotate`: the wire's `credential.limits`,
/// checked by the protocol's own rules (``CredentialParams/Limits/validate(path:)``). They
/// are sealed with the credential and enforced on every send by its `credential_id`.
struct LimitOptions: ParsableArguments {
    @Option(help: "Rate limits of a provider: \(CredentialParams.Limits.presets.joined(separator: " or ")).")
    var limitsPreset: String?

    @Option(help: "Recipients a minute (1-\(RequestBounds.perMinute.upperBound); replaces the preset's rate).")
    var perMinute: Int?

    @Option(help: "Recipients a rolling 24 hours (1-\(RequestBounds.daily.upperBound); replaces the preset's).")
    var daily: Int?

    @Flag(help: "No rate limits (rotate: drop the stored ones; without any limit flag, rotate keeps them).")
    var noLimits = false

    /// What the flags ask of the stored limits.
    enum Change: Equatable {
        /// No limit flag: `add` stores none, `rotate` keeps the stored ones.
        case unchanged
        /// These limits, or none (`--no-limits`).
        case set(CredentialParams.Limits?)
    }

    /// The flags as a change of the stored limits, refused as the protocol refuses
    /// `credential.limits`, with the flag named.
    func change() throws -> Change {
        let given = CredentialParams.Limits(preset: limitsPreset, perMinute: perMinute, daily: daily)
        let anyGiven = given != CredentialParams.Limits()
        if noLimits {
            guard !anyGiven else { throw CLIFailure("--no-limits cannot be given with --limits-preset, --per-minute or --daily.") }
            return .set(nil)
        }
        guard anyGiven else { return .unchanged }
        do {
            try given.validate(path: "limits")
        } catch {
            let flag: String
            switch error.field {
            case "limits.preset": flag = "--limits-preset"
            case "limits.per_minute": flag = "--per-minute"
            default: flag = "--daily"
            }
            throw CLIFailure("\(flag): \(error.message)")
        }
        return .set(given)
    }
}
