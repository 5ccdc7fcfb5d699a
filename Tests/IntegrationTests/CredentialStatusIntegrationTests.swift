import Foundation
import SidecarClient
import SidecarCore
import SidecarProtocol
import SidecarTestSupport
import Testing

/// `credential_status` of a real daemon sending with stored credentials through a real
/// Postfix: a good send sets the last success and leaves a warm pool, a wrong password
/// sets the last error, filters and an unknown id answer as the spec says, the CLI prints
/// it, and no secret appears in any of it.
@Suite(.serialized, .postfix) struct CredentialStatusIntegrationTests {
    var postfix: PostfixInstance { PostfixInstance.current! }

    static let workspace = "ws-status"

    /// Stores `id` with `password` (read from the environment, as the CLI does).
    func store(_ id: String, password: String, state: String, key: String) async throws {
        let added = try await ChildProcess.run(
            try TestEnvironment.sidecarPath(),
            ["credentials", "add", "--state-directory", state, "--key-file", key, "--workspace", Self.workspace,
             "--id", id, "--label", "Status \(id)", "--host", "localhost", "--port", "\(postfix.submissionPort)",
             "--username", postfix.user, "--ca-file", "\(postfix.directory)/tls/ca.pem", "--password-env", "STORED_PW"],
            environment: ["STORED_PW": password])
        #expect(added.status == 0, "\(added.summary)")
    }

    func send(credentialID: String, _ daemon: Daemon) async throws -> SidecarConnection.RawResponse {
        var params = SendParams(workspaceID: Self.workspace, credentialID: credentialID)
        params.from = postfix.user
        params.to = ["status-recipient@example.test"]
        params.subject = "credential status"
        params.text = "status"
        params.dedupWindowSeconds = 0
        return try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
            try await sidecar.callRaw("send", params: params)
        }
    }

    func status(_ params: CredentialStatusParams?, _ daemon: Daemon) async throws -> SidecarConnection.RawResponse {
        try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
            try await sidecar.callRaw("credential_status", params: params)
        }
    }

    @Test func statusShowsTheLastSuccessTheLastErrorAndThePoolAndNoSecret() async throws {
        let directory = try TestEnvironment.temporaryDirectory()
        let state = directory.appendingPathComponent("state").path
        let key = directory.appendingPathComponent("credential.key").path
        let bin = try TestEnvironment.sidecarPath()
        let generated = try await ChildProcess.run(bin, ["credentials", "generate-key", key])
        #expect(generated.status == 0, "\(generated.summary)")
        let wrongPassword = "wrong-pw-canary-\(UUID().uuidString.prefix(8))"
        try await store("good", password: postfix.password, state: state, key: key)
        try await store("bad", password: wrongPassword, state: state, key: key)
        try await store("idle", password: postfix.password, state: state, key: key)

        let daemon = try await Daemon.start(["--set", "credential_key_file=\(key)"], stateDirectory: state)
        let recorder = SchemaRecorder()
        let started = Date()

        let fresh = try await status(nil, daemon)
        recorder.record(op: "credential_status", [fresh.json])
        let before = try #require(try fresh.result(as: CredentialStatusResult.self))
        #expect(before.credentials.map(\.id) == ["bad", "good", "idle"])
        #expect(before.credentials.allSatisfy { $0.lastSuccessAt == nil && $0.lastError == nil && $0.pool.open == 0 })

        let sent = try await send(credentialID: "good", daemon)
        #expect(sent.ok, "\(String(decoding: sent.json, as: UTF8.self))")
        let failed = try await send(credentialID: "bad", daemon)
        #expect(failed.error?.code == .authFailed)

        let response = try await status(CredentialStatusParams(workspaceID: Self.workspace), daemon)
        recorder.record(op: "credential_status", [response.json])
        let result = try #require(try response.result(as: CredentialStatusResult.self))
        let byID = Dictionary(uniqueKeysWithValues: result.credentials.map { ($0.id, $0) })
        let good = try #require(byID["good"])
        let bad = try #require(byID["bad"])
        let idle = try #require(byID["idle"])

        #expect(good.workspaceID == Self.workspace && good.label == "Status good" && good.host == "localhost")
        #expect(good.port == postfix.submissionPort && good.username == postfix.user)
        let success = try #require(good.lastSuccessAt.flatMap(Self.date))
        #expect(success >= started.addingTimeInterval(-1) && success <= Date().addingTimeInterval(1))
        #expect(good.lastError == nil)
        // The send's connection went back to its pool, warm.
        #expect(good.pool.pools == 1 && good.pool.open == 1 && good.pool.idle == 1 && good.pool.connectionsCreated == 1)
        #expect(good.token == nil)

        #expect(bad.lastSuccessAt == nil)
        let error = try #require(bad.lastError)
        #expect(error.code == "auth_failed")
        #expect(Self.date(error.at).map { $0 >= started.addingTimeInterval(-1) } == true)
        #expect(bad.pool.open == 0)

        #expect(idle.lastSuccessAt == nil && idle.lastError == nil && idle.pool == .init())

        // Another workspace's view holds none of them; one id, or an unknown one.
        let other = try await status(CredentialStatusParams(workspaceID: "ws-nobody"), daemon)
        #expect(try other.result(as: CredentialStatusResult.self)?.credentials.isEmpty == true)
        let one = try await status(CredentialStatusParams(credentialID: "bad"), daemon)
        recorder.record(op: "credential_status", [one.json])
        #expect(try one.result(as: CredentialStatusResult.self)?.credentials.map(\.id) == ["bad"])
        let unknown = try await status(CredentialStatusParams(credentialID: "nope"), daemon)
        recorder.record(op: "credential_status", [unknown.json])
        #expect(unknown.error?.code == .credentialNotFound && unknown.error?.field == "params.credential_id")

        // The CLI: a table by default, the daemon's answer with --json.
        let table = try await ChildProcess.run(bin, ["credentials", "status", "--socket", daemon.socketPath])
        #expect(table.status == 0, "\(table.summary)")
        let lines = table.stdout.split(separator: "\n")
        #expect(lines.count == 4 && lines.first?.hasPrefix("WORKSPACE\tID") == true)
        #expect(lines.contains { $0.hasPrefix("\(Self.workspace)\tbad\t") && $0.contains("auth_failed at ") })
        let json = try await ChildProcess.run(
            bin, ["credentials", "status", "--socket", daemon.socketPath, "--id", "good", "--json"])
        #expect(json.status == 0, "\(json.summary)")
        let printed = try JSONDecoder().decode(CredentialStatusResult.self, from: Data(json.stdout.utf8))
        #expect(printed.credentials.map(\.id) == ["good"] && printed.credentials.first?.lastSuccessAt == good.lastSuccessAt)
        let missing = try await ChildProcess.run(
            bin, ["credentials", "status", "--socket", daemon.socketPath, "--id", "nope"])
        #expect(missing.status != 0 && missing.stderr.contains("credential_not_found"), "\(missing.summary)")

        // No secret, in any form, in anything the status gave out.
        let everything = [fresh.json, response.json, one.json, unknown.json, Data(table.stdout.utf8), Data(json.stdout.utf8)]
        for secret in [postfix.password, wrongPassword] {
            for form in [secret, Data(secret.utf8).base64EncodedString()] {
                for bytes in everything {
                    #expect(bytes.range(of: Data(form.utf8)) == nil, "a secret in \(String(decoding: bytes, as: UTF8.self))")
                }
            }
        }
        _ = try await daemon.stop()
        try await recorder.validate()
    }

    static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}
