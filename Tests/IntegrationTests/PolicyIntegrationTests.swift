import Foundation
import SidecarClient
import SidecarCore
import SidecarProtocol
import SidecarTestSupport
import Testing

/// The send policy in the real daemon against a real Postfix: duplicate suppression
/// (across restarts and kill -9), the SSRF guard, URL attachments, stored credentials and
/// rate limits. Every refusal is checked to have reached no server.
@Suite(.serialized, .postfix) struct PolicyIntegrationTests {
    var postfix: PostfixInstance { PostfixInstance.current! }

    func params(workspace: String = "ws-policy", token: String, subject: String = "policy") -> SendParams {
        var params = SendParams(
            workspaceID: workspace,
            credential: CredentialParams(
                id: "cred-policy", host: "localhost", port: postfix.submissionPort, username: postfix.user,
                password: Secret(postfix.password), tls: .init(caPEM: postfix.caPEM)))
        params.from = postfix.user
        params.to = ["policy@example.test"]
        params.subject = subject
        params.text = "policy"
        params.headers = HeaderList([.init(name: "X-Test-Token", value: token)])
        params.context = .init(workflowID: "wf", nodeID: "node-1")
        return params
    }

    /// Delivered messages carrying `token`.
    func delivered(_ token: String) async throws -> [String] {
        try await Task.sleep(for: .milliseconds(500))
        let names = (try? FileManager.default.contentsOfDirectory(atPath: postfix.maildir)) ?? []
        return names.compactMap { try? String(contentsOfFile: "\(postfix.maildir)/\($0)", encoding: .utf8) }
            .filter { $0.contains(token) }
    }

    func connections() async throws -> Int {
        try await Task.sleep(for: .milliseconds(300))
        return postfix.maillog.components(separatedBy: ": connect from").count - 1
    }

    func call(_ params: SendParams, _ daemon: Daemon) async throws -> SidecarConnection.RawResponse {
        try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
            try await sidecar.callRaw("send", params: params)
        }
    }

    static func token() -> String { "tok-\(UUID().uuidString.prefix(12))" }

    @Test func aDuplicateIsSentOnceAcrossRestartsAndKill9() async throws {
        let state = try TestEnvironment.temporaryDirectory().appendingPathComponent("state").path
        let token = Self.token()
        let request = params(token: token)

        let first = try await Daemon.start(stateDirectory: state)
        let sent = try #require(try await call(request, first).result(as: SendResult.self))
        #expect(sent.outcome == .sent && !sent.duplicate)
        let again = try #require(try await call(request, first).result(as: SendResult.self))
        #expect(again.duplicate && again.messageID == sent.messageID && again.smtp == sent.smtp)
        _ = try await first.stop()

        let restarted = try await Daemon.start(stateDirectory: state)
        #expect(try await call(request, restarted).result(as: SendResult.self)?.duplicate == true)
        restarted.process.signal(SIGKILL)
        _ = try await restarted.process.wait()

        let afterKill = try await Daemon.start(stateDirectory: state)
        let replay = try #require(try await call(request, afterKill).result(as: SendResult.self))
        #expect(replay.duplicate && replay.messageID == sent.messageID)
        #expect(try await delivered(token).count == 1)

        // A window of 0 turns suppression off for that send.
        var forced = request
        forced.dedupWindowSeconds = 0
        #expect(try await call(forced, afterKill).result(as: SendResult.self)?.duplicate == false)
        #expect(try await delivered(token).count == 2)
        _ = try await afterKill.stop()
    }

    @Test func concurrentIdenticalSendsDeliverOnce() async throws {
        let daemon = try await Daemon.start()
        let token = Self.token()
        let request = params(token: token)
        let results = try await withThrowingTaskGroup(of: SendResult?.self) { group in
            for _ in 0..<8 {
                group.addTask { try await call(request, daemon).result(as: SendResult.self) }
            }
            var all: [SendResult?] = []
            for try await result in group { all.append(result) }
            return all.compactMap { $0 }
        }
        #expect(results.count == 8)
        #expect(results.filter { !$0.duplicate }.count == 1)
        #expect(Set(results.map(\.messageID)).count == 1)
        #expect(try await delivered(token).count == 1)
        _ = try await daemon.stop()
    }

    // Issue 21 item 3: on d967eb0 nothing deleted a dedup record, ever.
    @Test func theRunningDaemonPurgesExpiredDedupRecordsAndKeepsLiveOnes() async throws {
        let sqlite3 = try #require(TestEnvironment.which("sqlite3"), "sqlite3 is not installed")
        let state = try TestEnvironment.temporaryDirectory().appendingPathComponent("state").path
        let daemon = try await Daemon.start(["--set", "state_purge_interval_seconds=1"], stateDirectory: state)
        var short = params(token: Self.token(), subject: "purged")
        short.dedupWindowSeconds = 1
        let long = params(token: Self.token(), subject: "kept")
        #expect(try await call(short, daemon).result(as: SendResult.self)?.outcome == .sent)
        #expect(try await call(long, daemon).result(as: SendResult.self)?.outcome == .sent)

        /// Records with a window under 10 s, and with a window of at least an hour.
        func records() async throws -> (short: Int, long: Int) {
            let query = """
                SELECT sum(expires_ms - created_ms < 10000), sum(expires_ms - created_ms >= 3600000) FROM dedup;
                """
            let outcome = try await ChildProcess.run(sqlite3, ["-separator", " ", "\(state)/state.sqlite3", query])
            let numbers = outcome.stdout.split(whereSeparator: \.isWhitespace).map { Int($0) ?? -1 }
            return (numbers.first ?? -1, numbers.dropFirst().first ?? -1)
        }
        var remaining = try await records()
        let patience = ContinuousClock.now + .seconds(60)
        while remaining.short != 0, ContinuousClock.now < patience {
            try await Task.sleep(for: .milliseconds(200))
            remaining = try await records()
        }
        #expect(remaining.short == 0, "the record past its 1 s window must be purged")
        #expect(remaining.long == 1, "the record within its window must stay")
        // The kept record still suppresses its duplicate.
        #expect(try await call(long, daemon).result(as: SendResult.self)?.duplicate == true)
        _ = try await daemon.stop()
    }

    @Test func anIdempotencyKeyTakesPrecedenceOverContent() async throws {
        let daemon = try await Daemon.start()
        let token = Self.token()
        var one = params(token: token, subject: "first wording")
        one.context?.idempotencyKey = "order-\(token)"
        var two = params(token: token, subject: "second wording")
        two.context?.idempotencyKey = "order-\(token)"
        #expect(try await call(one, daemon).result(as: SendResult.self)?.duplicate == false)
        #expect(try await call(two, daemon).result(as: SendResult.self)?.duplicate == true)
        #expect(try await delivered(token).count == 1)
        _ = try await daemon.stop()
    }

    @Test func nonPublicSMTPHostsAreRefusedUnlessAllowListed() async throws {
        let daemon = try await Daemon.start(["--set", "egress_allowed_cidrs="])
        let before = try await connections()
        for host in ["127.0.0.1", "localhost", "::ffff:127.0.0.1", "[::1]", "2130706433", "127.1", "0x7f.0.0.1",
                     "169.254.169.254", "10.1.2.3", "192.168.0.10", "100.64.0.1", "fd00:ec2::254"] {
            var request = params(token: Self.token())
            request.credential?.host = host
            let response = try await call(request, daemon)
            #expect(response.error?.code == .destinationForbidden, "\(host): \(String(decoding: response.json, as: UTF8.self))")
            #expect(response.error?.field == "params.credential.host")
            // `verify` takes the same guard: no TLS, no AUTH, no password to an internal host.
            let verified = try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
                try await sidecar.callRaw(
                    "verify", params: VerifyParams(workspaceID: "ws-policy", credential: request.credential))
            }
            #expect(verified.error?.code == .destinationForbidden, "verify \(host): \(String(decoding: verified.json, as: UTF8.self))")
            #expect(verified.error?.field == "params.credential.host")
        }
        #expect(try await connections() == before)
        _ = try await daemon.stop()
    }

    @Test func urlAttachmentsAreFetchedThroughTheGuardAndEveryFailureIsNamed() async throws {
        let directory = try TestEnvironment.temporaryDirectory()
        let log = directory.appendingPathComponent("http.log").path
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let fixture = try TestEnvironment.repositoryRoot()
            .appendingPathComponent("Tests/IntegrationTests/Fixtures/http_fixture.py").path
        let server = try ChildProcess("/usr/bin/env", ["python3", "-u", fixture, log], timeout: .seconds(120))
        // SIGKILL: the fixture inherits the test thread's signal mask, in which SIGTERM may
        // be blocked, and then lingered until its timeout.
        defer { server.signal(SIGKILL) }
        var port = 0
        for _ in 0..<100 where port == 0 {
            try await Task.sleep(for: .milliseconds(50))
            port = Int(server.currentStdout.split(separator: "\n").first ?? "") ?? 0
        }
        try #require(port > 0, "the HTTP fixture did not start")

        let daemon = try await Daemon.start([
            "--set", "attachment_max_bytes=100000", "--set", "attachment_timeout_seconds=2",
        ])
        func request(_ path: String, token: String) -> SendParams {
            var request = params(token: token)
            request.attachments = [AttachmentParams(filename: "fetched.bin", url: "http://127.0.0.1:\(port)\(path)")]
            return request
        }

        let token = Self.token()
        let ok = try await call(request("/file.bin", token: token), daemon)
        #expect(ok.ok, "\(String(decoding: ok.json, as: UTF8.self))")
        let message = try #require(try await delivered(token).first)
        let expected = Data((0..<3000).map { UInt8(($0 * 7 + 3) % 256) }).base64EncodedString()
        // Maildir stores lines with LF; the base64 body joined back is the file, byte for byte.
        #expect(message.replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\n", with: "").contains(expected))

        let before = try await connections()
        let failures: [(String, String)] = [
            ("/redirect", "302"), ("/missing", "404"), ("/big", "larger"), ("/stall", "timed out"),
        ]
        for (path, reason) in failures {
            let response = try await call(request(path, token: Self.token()), daemon)
            #expect(response.error?.code == .attachmentFetchFailed, "\(path): \(String(decoding: response.json, as: UTF8.self))")
            #expect(response.error?.field == "params.attachments[0].url")
            #expect(response.error?.message.contains("fetched.bin") == true)
            #expect(response.error?.message.lowercased().contains(reason) == true, "\(path): \(response.error?.message ?? "")")
        }
        _ = try await daemon.stop()

        // Without the allow-list, the loopback URL is refused before any request is made.
        let guarded = try await Daemon.start(["--set", "egress_allowed_cidrs="])
        var url = request("/file.bin", token: Self.token())
        url.credential?.host = "smtp.example.invalid"
        let refused = try await call(url, guarded)
        #expect([ErrorCode.destinationForbidden, .connectionFailed].contains(refused.error?.code ?? .internalError))
        _ = try await guarded.stop()

        #expect(try await connections() == before)
        let requested = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        // The redirect was never followed: /file.bin was requested only by the first send.
        #expect(requested.filter { $0 == "/file.bin" }.count == 1)
        #expect(requested.contains("/redirect"))
    }

    @Test func storedCredentialsWorkOnlyInTheirWorkspaceAndAreEncryptedOnDisk() async throws {
        let directory = try TestEnvironment.temporaryDirectory()
        let state = directory.appendingPathComponent("state").path
        let key = directory.appendingPathComponent("credential.key").path
        let bin = try TestEnvironment.sidecarPath()
        let generated = try await ChildProcess.run(bin, ["credentials", "generate-key", key])
        #expect(generated.status == 0, "\(generated.summary)")
        let added = try await ChildProcess.run(
            bin,
            ["credentials", "add", "--state-directory", state, "--key-file", key, "--workspace", "ws-owner",
             "--id", "stored-1", "--label", "Postfix", "--host", "localhost", "--port", "\(postfix.submissionPort)",
             "--username", postfix.user, "--ca-file", "\(postfix.directory)/tls/ca.pem", "--password-env", "STORED_PW"],
            environment: ["STORED_PW": postfix.password])
        #expect(added.status == 0, "\(added.summary)")
        let listed = try await ChildProcess.run(
            bin, ["credentials", "list", "--state-directory", state, "--key-file", key])
        #expect(listed.stdout.contains("stored-1") && !listed.stdout.contains(postfix.password))

        let daemon = try await Daemon.start(["--set", "credential_key_file=\(key)"], stateDirectory: state)
        let token = Self.token()
        var owner = params(workspace: "ws-owner", token: token)
        owner.credential = nil
        owner.credentialID = "stored-1"
        let sent = try await call(owner, daemon)
        #expect(sent.ok, "\(String(decoding: sent.json, as: UTF8.self))")
        var stranger = owner
        stranger.workspaceID = "ws-other"
        stranger.headers = HeaderList([.init(name: "X-Test-Token", value: Self.token())])
        let refused = try await call(stranger, daemon)
        #expect(refused.error?.code == .credentialNotFound)
        #expect(try await delivered(token).count == 1)
        _ = try await daemon.stop()

        // No file of the state directory holds the password in any form.
        for name in try FileManager.default.contentsOfDirectory(atPath: state) {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(state)/\(name)"))
            #expect(bytes.range(of: Data(postfix.password.utf8)) == nil, "plaintext password in \(name)")
            #expect(bytes.range(of: Data(Data(postfix.password.utf8).base64EncodedString().utf8)) == nil)
        }
    }

    @Test func dailyLimitsCountRecipientsAsProvidersDo() async throws {
        let daemon = try await Daemon.start()
        let token = Self.token()
        func request(_ index: Int, to: [String]) -> SendParams {
            var request = params(token: "\(token)-\(index)", subject: "recipients \(index)")
            request.credential?.id = "cred-recipients"
            request.credential?.limits = .init(daily: 4)
            request.to = AddressList(to)
            return request
        }
        // Three recipients (one of them twice: counted once), then three more: six of four.
        let first = try await call(request(1, to: ["a@example.test", "b@example.test, c@example.test", "a@example.test"]), daemon)
        #expect(first.ok, "\(String(decoding: first.json, as: UTF8.self))")
        let second = try await call(request(2, to: ["d@example.test", "e@example.test", "f@example.test"]), daemon)
        #expect(second.error?.code == .rateLimited)
        // One more fits.
        #expect(try await call(request(3, to: ["g@example.test"]), daemon).ok)
        #expect(try await delivered("\(token)-2").isEmpty)
        #expect(try await !delivered("\(token)-3").isEmpty)
        _ = try await daemon.stop()
    }

    @Test func rateLimitsAnswerWithRetryAfterAndHoldAcrossARestart() async throws {
        let state = try TestEnvironment.temporaryDirectory().appendingPathComponent("state").path
        let token = Self.token()
        func limited(_ index: Int) -> SendParams {
            var request = params(token: "\(token)-\(index)", subject: "rate \(index)")
            request.credential?.id = "cred-rate"
            request.credential?.limits = .init(perMinute: 2)
            return request
        }
        let daemon = try await Daemon.start(stateDirectory: state)
        #expect(try await call(limited(1), daemon).ok)
        #expect(try await call(limited(2), daemon).ok)
        let third = try await call(limited(3), daemon)
        #expect(third.error?.code == .rateLimited)
        #expect(third.error?.retryable == true)
        #expect((third.error?.retryAfterMs ?? 0) > 0)
        _ = try await daemon.stop()
        let restarted = try await Daemon.start(stateDirectory: state)
        let fourth = try await call(limited(4), restarted)
        #expect(fourth.error?.code == .rateLimited, "a restart must not reset the counters")
        // A mistyped preset is refused, not silently ignored.
        var typo = params(token: "\(token)-typo", subject: "rate typo")
        typo.credential?.limits = .init(preset: "gmial")
        let refused = try await call(typo, restarted)
        #expect(refused.error?.code == .invalidParams)
        #expect(refused.error?.field == "params.credential.limits.preset")
        _ = try await restarted.stop()
        // The refused sends reached no server.
        let third3 = try await delivered("\(token)-3")
        let fourth4 = try await delivered("\(token)-4")
        let typoed = try await delivered("\(token)-typo")
        #expect(third3.isEmpty && fourth4.isEmpty && typoed.isEmpty)
        #expect(try await delivered("\(token)-1").count == 1)
    }
}
