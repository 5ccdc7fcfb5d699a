import Foundation
import SidecarClient
import SidecarCore
import SidecarProtocol
import SidecarTestSupport
import Testing

/// A stored credential's rate limits, set with `credentials add --daily`, enforced by a real
/// daemon on sends by `credential_id` through a real Postfix, shown by `credential_status`
/// and `credentials list`, and kept by a `rotate` that gives no limit flag.
@Suite(.serialized, .postfix) struct StoredLimitsIntegrationTests {
    var postfix: PostfixInstance { PostfixInstance.current! }

    static let workspace = "ws-stored-limits"

    func send(_ token: String, credentialID: String, _ daemon: Daemon) async throws -> SidecarConnection.RawResponse {
        var params = SendParams(workspaceID: Self.workspace, credentialID: credentialID)
        params.from = postfix.user
        params.to = ["stored-limits@example.test"]
        params.subject = "stored limits \(token)"
        params.text = "stored limits"
        params.headers = HeaderList([.init(name: "X-Test-Token", value: token)])
        params.dedupWindowSeconds = 0
        return try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
            try await sidecar.callRaw("send", params: params)
        }
    }

    /// Delivered messages carrying `token`.
    func delivered(_ token: String) async throws -> [String] {
        try await Task.sleep(for: .milliseconds(500))
        let names = (try? FileManager.default.contentsOfDirectory(atPath: postfix.maildir)) ?? []
        return names.compactMap { try? String(contentsOfFile: "\(postfix.maildir)/\($0)", encoding: .utf8) }
            .filter { $0.contains(token) }
    }

    @Test func aStoredDailyLimitIsEnforcedShownAndKeptAcrossARotate() async throws {
        let directory = try TestEnvironment.temporaryDirectory()
        let state = directory.appendingPathComponent("state").path
        let key = directory.appendingPathComponent("credential.key").path
        let bin = try TestEnvironment.sidecarPath()
        let store = ["--state-directory", state, "--key-file", key, "--workspace", Self.workspace]
        let server = ["--host", "localhost", "--port", "\(postfix.submissionPort)", "--username", postfix.user,
                      "--ca-file", "\(postfix.directory)/tls/ca.pem", "--password-env", "STORED_PW"]
        let environment = ["STORED_PW": postfix.password]
        let generated = try await ChildProcess.run(bin, ["credentials", "generate-key", key])
        #expect(generated.status == 0, "\(generated.summary)")

        // The CLI refuses what the wire refuses.
        let refused = try await ChildProcess.run(
            bin, ["credentials", "add"] + store + ["--id", "capped"] + server + ["--daily", "0"], environment: environment)
        #expect(refused.status != 0 && refused.stderr.contains("--daily"), "\(refused.summary)")

        let added = try await ChildProcess.run(
            bin, ["credentials", "add"] + store + ["--id", "capped", "--label", "Capped"] + server + ["--daily", "2"],
            environment: environment)
        #expect(added.status == 0, "\(added.summary)")
        // A password rotation without limit flags keeps them.
        let rotated = try await ChildProcess.run(
            bin, ["credentials", "rotate"] + store + ["--id", "capped"] + server, environment: environment)
        #expect(rotated.status == 0, "\(rotated.summary)")
        let listed = try await ChildProcess.run(bin, ["credentials", "list"] + store)
        #expect(listed.status == 0, "\(listed.summary)")
        #expect(listed.stdout.contains("\tcapped\t") && listed.stdout.contains("limits 2/day"), "\(listed.summary)")

        let daemon = try await Daemon.start(["--set", "credential_key_file=\(key)"], stateDirectory: state)
        let token = "tok-\(UUID().uuidString.prefix(12))"
        let first = try await send("\(token)-1", credentialID: "capped", daemon)
        #expect(first.ok, "\(String(decoding: first.json, as: UTF8.self))")
        let second = try await send("\(token)-2", credentialID: "capped", daemon)
        #expect(second.ok, "\(String(decoding: second.json, as: UTF8.self))")
        let third = try await send("\(token)-3", credentialID: "capped", daemon)
        #expect(third.error?.code == .rateLimited, "\(String(decoding: third.json, as: UTF8.self))")
        #expect(third.error?.retryable == true)
        let retryAfter = try #require(third.error?.retryAfterMs)
        #expect(retryAfter > 0 && retryAfter <= 86_400_000 + 60_000)

        let response = try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
            try await sidecar.callRaw("credential_status", params: CredentialStatusParams(credentialID: "capped"))
        }
        let status = try #require(try response.result(as: CredentialStatusResult.self)?.credentials.first)
        let daily = try #require(status.quota.daily, "\(String(decoding: response.json, as: UTF8.self))")
        #expect(daily.used == 2 && daily.limit == 2 && daily.periodMs == 86_400_000)
        let resets = try #require(CredentialStatusIntegrationTests.date(daily.resetsAt))
        #expect(resets > Date() && resets <= Date().addingTimeInterval(86_400 + 120))
        #expect(status.quota.rate == nil)

        // --no-limits drops them: the next send goes (the daemon reads the record each send).
        let cleared = try await ChildProcess.run(
            bin, ["credentials", "rotate"] + store + ["--id", "capped", "--no-limits"] + server, environment: environment)
        #expect(cleared.status == 0, "\(cleared.summary)")
        let fourth = try await send("\(token)-4", credentialID: "capped", daemon)
        #expect(fourth.ok, "\(String(decoding: fourth.json, as: UTF8.self))")
        _ = try await daemon.stop()

        #expect(try await delivered("\(token)-1").count == 1)
        #expect(try await delivered("\(token)-2").count == 1)
        #expect(try await delivered("\(token)-3").isEmpty, "a refused send reached the server")
        #expect(try await delivered("\(token)-4").count == 1)
    }
}
