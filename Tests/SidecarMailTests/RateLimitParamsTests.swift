import SidecarCore
import SidecarProtocol
import SidecarState
import Testing

@testable import SidecarMail

/// `credential.limits` as the daemon enforces it, and refuses it.
@Suite struct RateLimitParamsTests {
    @Test func presetsAndCountsBecomeLimits() throws {
        #expect(try CredentialParams.Limits().rateLimits() == nil)
        #expect(try CredentialParams.Limits(preset: "gmail").rateLimits() == .gmail)
        #expect(try CredentialParams.Limits(preset: "ses-sandbox", daily: 50).rateLimits()
            == RateLimits(rate: .perSecond(1), daily: 50))
        #expect(try CredentialParams.Limits(perMinute: 10).rateLimits() == RateLimits(rate: .perMinute(10)))
    }

    /// The schema's enum and minimums: a typo or a zero must not leave the credential
    /// silently unlimited.
    @Test(arguments: [
        (CredentialParams.Limits(preset: "gmial"), "params.credential.limits.preset"),
        (CredentialParams.Limits(preset: ""), "params.credential.limits.preset"),
        (CredentialParams.Limits(perMinute: 0), "params.credential.limits.per_minute"),
        (CredentialParams.Limits(preset: "gmail", daily: -1), "params.credential.limits.daily"),
    ])
    func anUnknownPresetOrACountBelowOneIsRefused(limits: CredentialParams.Limits, field: String) {
        #expect {
            try limits.rateLimits()
        } throws: { error in
            (error as? SidecarError)?.code == .invalidParams && (error as? SidecarError)?.field == field
        }
    }
}
