import Foundation
import SidecarClient
import SidecarCore
import SidecarProtocol
import SidecarTestSupport
import Testing

/// Stored OAuth credentials end to end: `credentials add --oauth` through the CLI, the
/// daemon getting, caching, refreshing and rotating tokens from a real token endpoint
/// (scripts/oauth-harness.sh) through its egress guard, and an SMTP server that checks
/// them. Each failure of the endpoint answers with its own code and sends nothing, and no
/// token, refresh token or client secret appears in a log, an answer, `stats` or the CLI.
@Suite(.serialized, .enabled(if: OAuthHarness.isAvailable, "needs python3 and openssl"))
struct OAuthStoredCredentialIntegrationTests {
    /// A harness, a key, a stored credential `id` made with `options`, and a daemon.
    struct Setup {
        let harness: OAuthHarness
        let state: String
        let key: String
        let daemon: Daemon
        let cliOutput: String
    }

    static let workspace = "ws-oauth"

    static func credentialOptions(_ harness: OAuthHarness, id: String, appOnly: Bool = false) -> [String] {
        var options = [
            "--workspace", workspace, "--id", id, "--host", "localhost", "--port", harness.values["TLS_PORT"] ?? "",
            "--security", "tls", "--ca-file", harness.values["SMTP_CA_FILE"] ?? "", "--username", harness.user,
            "--client-id", harness.values["CLIENT_ID"] ?? "", "--client-secret-env", "OAUTH_CLIENT_SECRET",
        ]
        if appOnly {
            options += [
                "--oauth", "microsoft", "--tenant", harness.values["TENANT"] ?? "", "--client-credentials",
                "--token-url", harness.values["TOKEN_URL_MICROSOFT"] ?? "",
            ]
        } else {
            options += ["--oauth", "custom", "--token-url", harness.values["TOKEN_URL"] ?? "", "--scope", "https://mail.google.com/",
                        "--refresh-token-env", "OAUTH_REFRESH_TOKEN"]
        }
        return options
    }

    static func cliEnvironment(_ harness: OAuthHarness) -> [String: String?] {
        ["OAUTH_CLIENT_SECRET": harness.values["CLIENT_SECRET"], "OAUTH_REFRESH_TOKEN": harness.values["REFRESH_TOKEN"]]
    }

    static func withSetup(appOnly: Bool = false, _ body: (Setup) async throws -> Void) async throws {
        let harness = try await OAuthHarness.start()
        do {
            let directory = try TestEnvironment.temporaryDirectory()
            let state = directory.appendingPathComponent("state").path
            let key = directory.appendingPathComponent("credential.key").path
            let bin = try TestEnvironment.sidecarPath()
            let generated = try await ChildProcess.run(bin, ["credentials", "generate-key", key])
            #expect(generated.status == 0, "\(generated.summary)")
            let added = try await ChildProcess.run(
                bin, ["credentials", "add", "--state-directory", state, "--key-file", key]
                    + credentialOptions(harness, id: "oauth-1", appOnly: appOnly),
                environment: cliEnvironment(harness))
            #expect(added.status == 0, "\(added.summary)")
            let listed = try await ChildProcess.run(bin, ["credentials", "list", "--state-directory", state, "--key-file", key])
            let daemon = try await Daemon.start(
                ["--set", "credential_key_file=\(key)", "--set", "oauth_token_ca_file=\(harness.values["TOKEN_CA_FILE"] ?? "")"],
                stateDirectory: state)
            let setup = Setup(
                harness: harness, state: state, key: key, daemon: daemon,
                cliOutput: added.stdout + added.stderr + listed.stdout + listed.stderr)
            do {
                try await body(setup)
            } catch {
                let outcome = try? await daemon.stop()
                print("daemon log of a failed OAuth case:\n\(outcome?.stderr.suffix(8000) ?? "")")
                throw error
            }
            let outcome = try await daemon.stop()
            #expect(outcome.status == 0)
            try await checkNoSecret(in: outcome.stderr + setup.cliOutput, harness: harness, state: state)
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    /// No access token, refresh token or client secret in `text`, nor in the clear in the
    /// state directory.
    static func checkNoSecret(in text: String, harness: OAuthHarness, state: String) async throws {
        let snapshot = try await harness.control()
        var secrets = (snapshot["issued_access_tokens"] as? [String]) ?? []
        secrets += ((snapshot["valid_refresh_tokens"] as? [[String: Any]]) ?? []).compactMap { $0["refresh_token"] as? String }
        secrets += (snapshot["retired_refresh_tokens"] as? [String]) ?? []
        secrets += [harness.values["CLIENT_SECRET"] ?? "", harness.values["REFRESH_TOKEN"] ?? ""]
        for secret in secrets where !secret.isEmpty {
            #expect(!text.contains(secret), "a token or secret is in the log, an answer or the CLI's output")
            for name in (try? FileManager.default.contentsOfDirectory(atPath: state)) ?? [] {
                let bytes = (try? Data(contentsOf: URL(fileURLWithPath: "\(state)/\(name)"))) ?? Data()
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "a secret in the clear in \(name)")
            }
        }
    }

    static func message(_ marker: String, id: String = "oauth-1") -> SendParams {
        var params = SendParams(workspaceID: workspace, credentialID: id)
        params.from = "sender@example.test"
        params.to = AddressList(["rcpt@example.test"])
        params.subject = "stored oauth \(marker)"
        params.text = "Sent with a stored OAuth credential, \(marker).\n"
        params.headers = HeaderList([.init(name: MaildirIndex.tokenHeader, value: marker)])
        params.dedupWindowSeconds = 0
        return params
    }

    static func send(_ params: SendParams, _ daemon: Daemon) async throws -> (SidecarConnection.RawResponse, String) {
        let response = try await SidecarConnection.withConnection(socketPath: daemon.socketPath) {
            try await $0.callRaw("send", params: params)
        }
        return (response, String(decoding: response.json, as: UTF8.self))
    }

    static func marker() -> String { String(UUID().uuidString.prefix(12)) }

    /// `credentials list`'s line for the credential (another process than the daemon).
    static func listed(_ setup: Setup) async throws -> String {
        let listed = try await ChildProcess.run(
            try TestEnvironment.sidecarPath(), ["credentials", "list", "--state-directory", setup.state, "--key-file", setup.key])
        #expect(listed.status == 0, "\(listed.summary)")
        return listed.stdout
    }

    static func tokenRequests(_ harness: OAuthHarness) async throws -> Int {
        ((try await harness.control()["token_requests"] as? [String: Any])?["total"] as? Int) ?? -1
    }

    /// Sends get one token and share it: ten sequential and ten concurrent sends, one
    /// token request, every message delivered; verify authenticates with the same token.
    @Test func aStoredCredentialGetsItsTokenOnceAndSends() async throws {
        try await Self.withSetup { setup in
            var answers: [String] = []
            for _ in 0..<10 {
                let marker = Self.marker()
                let (response, json) = try await Self.send(Self.message(marker), setup.daemon)
                answers.append(json)
                #expect(response.error == nil, "\(json)")
                #expect(try setup.harness.maildir.deliveries(token: marker).count == 1)
            }
            try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        let (response, json) = try await Self.send(Self.message(Self.marker()), setup.daemon)
                        #expect(response.error == nil, "\(json)")
                        return json
                    }
                }
                for try await json in group { answers.append(json) }
            }
            let verified = try await SidecarConnection.withConnection(socketPath: setup.daemon.socketPath) {
                try await $0.callRaw("verify", params: VerifyParams(workspaceID: Self.workspace, credentialID: "oauth-1"))
            }
            #expect(verified.error == nil, "\(String(decoding: verified.json, as: UTF8.self))")
            let stats = try await SidecarConnection.withConnection(socketPath: setup.daemon.socketPath) {
                try await $0.callRaw("stats", params: NoParams?.none)
            }
            answers.append(String(decoding: stats.json, as: UTF8.self))
            let list = try await Self.listed(setup)
            #expect(list.contains("oauth-1") && list.contains("token expires 20"), "\(list)")
            answers.append(list)
            #expect(try await Self.tokenRequests(setup.harness) == 1)
            let counters = try await setup.harness.auth("OAUTHBEARER")
            #expect(counters.failures == 0)
            // Pooled: far fewer AUTHs (connections) than the 21 sends and the verify.
            #expect(counters.successes <= 6, "\(counters)")
            try await Self.checkNoSecret(in: answers.joined(), harness: setup.harness, state: setup.state)
        }
    }

    /// Microsoft's app-only flow: a client-credentials token, sending as the mailbox.
    @Test func theClientCredentialsFlowSendsAsTheMailbox() async throws {
        try await Self.withSetup(appOnly: true) { setup in
            let marker = Self.marker()
            let (response, json) = try await Self.send(Self.message(marker), setup.daemon)
            #expect(response.error == nil, "\(json)")
            let delivered = try setup.harness.maildir.deliveries(token: marker)
            #expect(delivered.first?.headerValues("X-OAuth-Harness-Auth").first == "\(setup.harness.user) app")
            let requests = try await setup.harness.control()["token_requests"] as? [String: Any]
            #expect(requests?["client_credentials"] as? Int == 1)
        }
    }

    /// Consent revoked: `oauth_reauthorization_required`, not retryable, nothing sent.
    @Test func aRevokedRefreshTokenAsksForConsentAgain() async throws {
        try await Self.withSetup { setup in
            _ = try await setup.harness.control("/mode?mode=invalid_grant")
            let marker = Self.marker()
            let (response, json) = try await Self.send(Self.message(marker), setup.daemon)
            #expect(response.error?.code == .oauthReauthorizationRequired, "\(json)")
            #expect(response.error?.retryable == false)
            #expect(try response.result(as: SendResult.self)?.outcome == .notSent)
            #expect(try setup.harness.maildir.deliveries(token: marker).isEmpty)
            #expect(try await setup.harness.control()["smtp_connections"] as? Int == 0)
            let list = try await Self.listed(setup)
            #expect(list.contains("token refresh failed: ") && list.contains("invalid_grant"), "\(list)")
            try await Self.checkNoSecret(in: list + json, harness: setup.harness, state: setup.state)
        }
    }

    /// The endpoint down, or too slow: `oauth_token_failed`, retryable, nothing sent; once
    /// it is back, the next send goes.
    @Test(arguments: ["down", "hangup", "error500"])
    func anUnavailableEndpointIsRetryableAndSendsNothing(mode: String) async throws {
        try await Self.withSetup { setup in
            _ = try await setup.harness.control("/mode?mode=\(mode)")
            let marker = Self.marker()
            let (response, json) = try await Self.send(Self.message(marker), setup.daemon)
            #expect(response.error?.code == .oauthTokenFailed, "\(json)")
            #expect(response.error?.retryable == true)
            #expect(try setup.harness.maildir.deliveries(token: marker).isEmpty)
            _ = try await setup.harness.control("/mode?mode=normal")
            // A failed refresh is the answer for 2 s, then tried again.
            try await Task.sleep(for: .milliseconds(2_100))
            let (retried, retriedJSON) = try await Self.send(Self.message(Self.marker()), setup.daemon)
            #expect(retried.error == nil, "\(retriedJSON)")
        }
    }

    @Test func aSlowEndpointEndsAtTheRequestsDeadline() async throws {
        try await Self.withSetup { setup in
            _ = try await setup.harness.control("/mode?mode=slow&delay_ms=5000")
            var params = Self.message(Self.marker())
            params.timeoutMs = 1_000
            let started = ContinuousClock.now
            let (response, json) = try await Self.send(params, setup.daemon)
            #expect(ContinuousClock.now - started < .seconds(4), "the deadline bounds the wait for a token")
            #expect(response.error?.retryable == true, "\(json)")
            #expect([ErrorCode.oauthTokenFailed, .requestTimeout].contains(response.error?.code ?? .internalError), "\(json)")
        }
    }

    /// The endpoint rotates refresh tokens (each used one is dead): the new one is used for
    /// the next refresh, and stored, so another daemon refreshes with it too. Tokens
    /// live 2 s here, so connections are retired and tokens refreshed while sends go on.
    @Test func aRotatedRefreshTokenIsStoredAndUsed() async throws {
        try await Self.withSetup { setup in
            _ = try await setup.harness.control("/mode?mode=rotate")
            _ = try await setup.harness.control("/config?token_lifetime=2")
            for _ in 0..<4 {
                let (response, json) = try await Self.send(Self.message(Self.marker()), setup.daemon)
                #expect(response.error == nil, "\(json)")
                try await Task.sleep(for: .milliseconds(1_500))
            }
            let requests = try await Self.tokenRequests(setup.harness)
            #expect(requests >= 2, "tokens were refreshed")
            #expect((try await setup.harness.control()["token_requests"] as? [String: Any])?["errors"] as? [String: Int] ?? [:] == [:])
            // (A refused AUTH is possible here on a loaded machine, a 2-second token aging
            // between its grant and its use; the send then goes with a new one.)
            // Another daemon on the same state (a restart, or a second worker host's) reads
            // the rotated refresh token from the store: the first one's is dead.
            let restarted = try await Daemon.start(
                ["--set", "credential_key_file=\(setup.key)",
                 "--set", "oauth_token_ca_file=\(setup.harness.values["TOKEN_CA_FILE"] ?? "")"],
                stateDirectory: setup.state)
            let (response, json) = try await Self.send(Self.message(Self.marker()), restarted)
            #expect(response.error == nil, "the other daemon refreshes with the stored rotated token: \(json)")
            _ = try await restarted.stop()
        }
    }

    /// The provider stops honouring a token early (revoked, or its clock ahead of ours) and
    /// ends the sessions that used it: the pooled connection's 421 sends the message on a
    /// fresh connection, whose AUTH the server refuses; the token is dropped and the send
    /// goes once more with a new one. Delivered once, nothing reported to the caller.
    @Test func aTokenTheServerRefusesIsReplacedAndTheSendGoesOnce() async throws {
        try await Self.withSetup { setup in
            let (first, firstJSON) = try await Self.send(Self.message(Self.marker()), setup.daemon)
            #expect(first.error == nil, "\(firstJSON)")
            _ = try await setup.harness.control("/config?close_expired_sessions=1")
            _ = try await setup.harness.control("/expire")
            let marker = Self.marker()
            let (response, json) = try await Self.send(Self.message(marker), setup.daemon)
            #expect(response.error == nil, "\(json)")
            #expect(try setup.harness.maildir.deliveries(token: marker).count == 1)
            #expect(try await Self.tokenRequests(setup.harness) == 2)
            let counters = try await setup.harness.auth("OAUTHBEARER")
            #expect(counters.failures == 1, "the refused token was tried once: \(counters)")
        }
    }
}
