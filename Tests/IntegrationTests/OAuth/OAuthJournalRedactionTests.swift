import Foundation
import SidecarClient
import SidecarTestSupport
import Testing

/// With trace logging into a real journald: a stored OAuth credential added by the CLI,
/// sends and a verify with tokens the daemon gets itself, a revoked grant, a rotated refresh
/// token and `stats`. No access token, refresh token or client secret, nor an AUTH payload
/// built from them (plain or base64), may appear in the journal, a response or the CLI's
/// output.
@Suite(.serialized, .enabled(if: OAuthHarness.isAvailable, "needs python3 and openssl"))
struct OAuthJournalRedactionTests {
    @Test func noOAuthSecretReachesTheJournalAResponseOrTheCLI() async throws {
        if let reason = TestEnvironment.rootRequirement {
            Issue.record(Comment(rawValue: reason))
            return
        }
        let harness = try await OAuthHarness.start()
        do {
            try await check(harness)
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    private func check(_ harness: OAuthHarness) async throws {
        let root = try TestEnvironment.repositoryRoot()
        let directory = try TestEnvironment.temporaryDirectory()
        let journal = directory.appendingPathComponent("journal.json").path
        let socket = directory.appendingPathComponent("o.sock").path
        let state = directory.appendingPathComponent("state").path
        let key = directory.appendingPathComponent("key").path
        let bin = try TestEnvironment.sidecarPath()
        let values = harness.values
        let add = (["credentials", "add", "--state-directory", state, "--key-file", key]
            + OAuthStoredCredentialIntegrationTests.credentialOptions(harness, id: "oauth-1"))
            .map { "'\($0)'" }.joined(separator: " ")
        let send = "'\(bin)' send -s '\(socket)' --workspace \(OAuthStoredCredentialIntegrationTests.workspace) --credential-id oauth-1 --from '\(harness.user)' --to a@example.test"
        let control = values["CONTROL_URL"] ?? ""
        let script = """
            set -u
            "\(bin)" credentials generate-key '\(key)'
            OAUTH_CLIENT_SECRET='\(values["CLIENT_SECRET"] ?? "")' OAUTH_REFRESH_TOKEN='\(values["REFRESH_TOKEN"] ?? "")' "\(bin)" \(add)
            "\(bin)" serve --socket "\(socket)" --log-target journald --log-level trace --set state_directory="\(state)" --set credential_key_file='\(key)' --set oauth_token_ca_file='\(values["TOKEN_CA_FILE"] ?? "")' --set egress_allowed_cidrs=127.0.0.1/32,::1/128 &
            pid=$!
            for i in $(seq 1 200); do [ -S "\(socket)" ] && break; sleep 0.05; done
            ctl() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1]).read()' "\(control)$1"; }
            ctl '/mode?mode=rotate'
            ctl '/config?token_lifetime=2'
            \(send) --subject oauth-1
            sleep 2.2
            \(send) --subject oauth-2
            "\(bin)" verify -s '\(socket)' --workspace \(OAuthStoredCredentialIntegrationTests.workspace) --credential-id oauth-1
            ctl '/mode?mode=invalid_grant'
            sleep 2.2
            \(send) --subject oauth-3 || true
            "\(bin)" stats -s "\(socket)"
            "\(bin)" credentials list --state-directory '\(state)' --key-file '\(key)'
            kill -TERM $pid
            wait $pid
            """
        let outcome = try await ChildProcess.run(
            "/bin/bash", [root.appendingPathComponent("scripts/journald-sandbox.sh").path, journal, "--", "/bin/bash", "-c", script],
            environment: ["NOTIFY_SOCKET": nil, "JOURNAL_STREAM": nil], timeout: .seconds(180))
        #expect(outcome.status == 0, "\(outcome.summary)")
        let text = try String(contentsOfFile: journal, encoding: .utf8)
        // It all happened: sends, a rotation, a revoked grant, listed.
        #expect(outcome.stdout.contains("\"outcome\" : \"sent\""), "\(outcome.summary)")
        #expect(outcome.stderr.contains("oauth_reauthorization_required"), "\(outcome.summary)")
        #expect(outcome.stdout.contains("token refresh failed"), "\(outcome.summary)")
        #expect(text.contains("rotated the credential's refresh token"), "the rotation is logged, without the token")

        let snapshot = try await harness.control()
        var secrets = (snapshot["issued_access_tokens"] as? [String]) ?? []
        #expect(secrets.count >= 2, "tokens were issued: \(secrets.count)")
        secrets += ((snapshot["valid_refresh_tokens"] as? [[String: Any]]) ?? []).compactMap { $0["refresh_token"] as? String }
        secrets += (snapshot["retired_refresh_tokens"] as? [String]) ?? []
        secrets += [values["CLIENT_SECRET"] ?? "", values["REFRESH_TOKEN"] ?? ""]
        let user = harness.user
        var forbidden: [String] = []
        for secret in secrets where !secret.isEmpty {
            forbidden.append(secret)
            forbidden.append(Data(secret.utf8).base64EncodedString())
            forbidden.append(Data("user=\(user)\u{1}auth=Bearer \(secret)\u{1}\u{1}".utf8).base64EncodedString())
            for port in [values["TLS_PORT"] ?? "", values["STARTTLS_PORT"] ?? ""] {
                forbidden.append(Data("n,a=\(user),\u{1}host=localhost\u{1}port=\(port)\u{1}auth=Bearer \(secret)\u{1}\u{1}".utf8)
                    .base64EncodedString())
            }
        }
        for needle in forbidden {
            #expect(!text.contains(needle), "an OAuth secret form is in the journal")
            #expect(!outcome.stdout.contains(needle), "an OAuth secret form is in a response, stats or the CLI's output")
            #expect(!outcome.stderr.contains(needle), "an OAuth secret form is in the CLI's error output")
        }
    }
}
