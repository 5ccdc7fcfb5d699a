import ArgumentParser
import SidecarProtocol
import Testing

@testable import smtp_sidecar

/// The limit flags of `credentials add` and `rotate`: the wire's bounds and presets, the
/// flag named in a refusal, and what no flag means.
@Suite struct LimitOptionsTests {
    func change(_ arguments: [String]) throws -> LimitOptions.Change {
        try LimitOptions.parse(arguments).change()
    }

    @Test func flagsBecomeTheWiresLimits() throws {
        #expect(try change([]) == .unchanged)
        #expect(try change(["--no-limits"]) == .set(nil))
        #expect(try change(["--daily", "2"]) == .set(.init(daily: 2)))
        #expect(try change(["--limits-preset", "gmail", "--per-minute", "100000", "--daily", "10000000"])
            == .set(.init(preset: "gmail", perMinute: 100_000, daily: 10_000_000)))
        #expect(try change(["--limits-preset", "ses-sandbox"]) == .set(.init(preset: "ses-sandbox")))
    }

    @Test(arguments: [
        (["--daily", "0"], "--daily: The field \"limits.daily\" must be an integer from 1 to 10000000, not 0."),
        (["--daily", "10000001"], "--daily: The field \"limits.daily\" must be an integer from 1 to 10000000, not 10000001."),
        (["--per-minute", "0"], "--per-minute: The field \"limits.per_minute\" must be an integer from 1 to 100000, not 0."),
        (["--per-minute", "100001", "--daily", "5"],
         "--per-minute: The field \"limits.per_minute\" must be an integer from 1 to 100000, not 100001."),
        (["--limits-preset", "hotmail"],
         "--limits-preset: The field \"limits.preset\" must be one of \"gmail\", \"ses-sandbox\", not \"hotmail\"."),
        (["--no-limits", "--daily", "5"], "--no-limits cannot be given with --limits-preset, --per-minute or --daily."),
    ])
    func outOfBoundsOrUnknownIsRefusedNamingTheFlag(_ arguments: [String], _ message: String) throws {
        let error = #expect(throws: CLIFailure.self) { try change(arguments) }
        #expect(error?.description == message)
    }

    @Test func theWireRefusesWhatTheFlagsRefuse() throws {
        // The same check, so a stored credential's limits could have come inline too.
        #expect(throws: (any Error).self) { try CredentialParams.Limits(daily: 0).validate(path: "params.credential.limits") }
        #expect(throws: Never.self) { try CredentialParams.Limits(preset: "gmail", daily: 1).validate(path: "params.credential.limits") }
    }

    @Test func listShowsTheLimits() {
        #expect(CredentialParams.Limits.listed(nil) == "-")
        #expect(CredentialParams.Limits.listed(.init()) == "-")
        #expect(CredentialParams.Limits.listed(.init(daily: 2)) == "2/day")
        #expect(CredentialParams.Limits.listed(.init(preset: "gmail", perMinute: 60, daily: 400)) == "gmail 60/min 400/day")
    }
}
