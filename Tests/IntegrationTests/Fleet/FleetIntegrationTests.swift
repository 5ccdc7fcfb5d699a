import Foundation
import SidecarClient
import SidecarCore
import SidecarProtocol
import SidecarTestSupport
import Testing

/// Two daemons sharing one real PostgreSQL (scripts/postgres-harness.sh), sending through one
/// real Postfix: the promises a fleet makes (issue: fleet mode) hold across hosts.
@Suite(.serialized, .postfix) struct FleetIntegrationTests {
    var postfix: PostfixInstance { PostfixInstance.current! }

    func params(token: String, content: Int, credentialID: String = "cred-fleet") -> SendParams {
        var params = SendParams(
            workspaceID: "ws-fleet",
            credential: CredentialParams(
                id: credentialID, host: "localhost", port: postfix.submissionPort, username: postfix.user,
                password: Secret(postfix.password), tls: .init(caPEM: postfix.caPEM)))
        params.from = postfix.user
        params.to = ["fleet@example.test"]
        params.subject = "fleet \(content)"
        params.text = "content \(content)"
        params.headers = HeaderList([.init(name: "X-Test-Token", value: token)])
        params.context = .init(workflowID: "wf-fleet", executionID: "exec-\(content)", nodeID: "node-1")
        return params
    }

    /// Messages delivered with `token`, once the count has reached `expected` (or the wait
    /// ran out) and then held still for two seconds.
    func delivered(_ token: String, expected: Int) async throws -> Int {
        func count() -> Int {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: postfix.maildir)) ?? []
            return names.filter {
                (try? String(contentsOfFile: "\(postfix.maildir)/\($0)", encoding: .utf8))?.contains(token) == true
            }.count
        }
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(60)
        while count() < expected, clock.now < deadline { try await Task.sleep(for: .milliseconds(200)) }
        try await Task.sleep(for: .seconds(2))
        return count()
    }

    static func token() -> String { "fleet-\(UUID().uuidString.prefix(12))" }

    @Test func identicalSendsAcrossTwoHostsAreDeliveredOnce() async throws {
        let server = try await PostgresTestServer.shared()
        let fleet = try await Fleet.start(on: server)
        let token = Self.token()
        // 50 contents, each sent 4 times: twice to each host, all 200 at once.
        let answers = try await withThrowingTaskGroup(of: (Int, SidecarConnection.RawResponse).self) { group in
            for index in 0..<200 {
                let content = index % 50
                let host = fleet.hosts[(index / 50) % 2]
                group.addTask { (content, try await fleet.send(params(token: token, content: content), on: host)) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        var sentByContent: [Int: SendResult] = [:]
        var duplicates: [(Int, SendResult)] = []
        for (content, response) in answers {
            let result = try #require(try response.result(as: SendResult.self), "\(String(decoding: response.json, as: UTF8.self))")
            #expect(result.outcome == .sent)
            if result.duplicate {
                duplicates.append((content, result))
            } else {
                #expect(sentByContent[content] == nil, "content \(content) was sent twice")
                sentByContent[content] = result
            }
        }
        #expect(sentByContent.count == 50)
        #expect(duplicates.count == 150)
        for (content, duplicate) in duplicates {
            #expect(duplicate.messageID == sentByContent[content]?.messageID, "a duplicate answers with the sender's result")
        }
        #expect(try await delivered(token, expected: 50) == 50)
        await fleet.stop()
    }

    @Test func aDailyLimitHoldsAcrossTwoHosts() async throws {
        let server = try await PostgresTestServer.shared()
        let fleet = try await Fleet.start(on: server)
        let token = Self.token()
        // 150 sends, 30 at a time (15 a host: a platform's workers, not a flood that would
        // wait out the pools and answer pool_busy on a loaded machine).
        let answers = try await withThrowingTaskGroup(of: SidecarConnection.RawResponse.self) { group in
            var answers: [SidecarConnection.RawResponse] = []
            for index in 0..<150 {
                var request = params(token: token, content: index, credentialID: "cred-daily")
                request.credential?.limits = .init(daily: 100)
                let host = fleet.hosts[index % 2]
                if index >= 30, let answer = try await group.next() { answers.append(answer) }
                group.addTask { try await fleet.send(request, on: host) }
            }
            return try await group.reduce(into: answers) { $0.append($1) }
        }
        let sent = answers.filter { $0.ok }
        let limited = answers.compactMap(\.error).filter { $0.code == .rateLimited }
        let others = answers.compactMap(\.error).filter { $0.code != .rateLimited }
        #expect(others.isEmpty, "\(others.prefix(3).map { "\($0.code): \($0.message)" })")
        #expect(sent.count == 100)
        #expect(limited.count == 50)
        #expect(limited.allSatisfy { ($0.retryAfterMs ?? 0) > 0 && $0.retryable })
        #expect(try await delivered(token, expected: 100) == 100)
        await fleet.stop()
    }

    @Test func aSendInterruptedByKill9IsNotSentAgainByTheOtherHost() async throws {
        let server = try await PostgresTestServer.shared()
        // A short lease, so the other host learns of the death within seconds.
        let fleet = try await Fleet.start(on: server, settings: ["state_lease_seconds=2"])
        let stall = try await StallAfterBodySMTPServer.start()
        var request = params(token: Self.token(), content: 1)
        request.credential = CredentialParams(
            id: "cred-stall", host: "127.0.0.1", port: stall.port, security: CredentialParams.Security.none,
            auth: CredentialParams.AuthMechanism.none)
        let first = Task { try? await fleet.send(request, on: fleet.hosts[0]) }
        let clock = ContinuousClock()
        let giveUp = clock.now + .seconds(30)
        while stall.bodiesReceived == 0, clock.now < giveUp { try await Task.sleep(for: .milliseconds(20)) }
        #expect(stall.bodiesReceived == 1)
        fleet.hosts[0].process.signal(SIGKILL)
        _ = try await fleet.hosts[0].process.wait()
        first.cancel()

        let again = try await fleet.send(request, on: fleet.hosts[1])
        #expect(again.error?.code == .outcomeUnknown, "\(String(decoding: again.json, as: UTF8.self))")
        #expect(again.error?.retryable == false)
        // The other host never sent it: one body only, ever.
        try await Task.sleep(for: .milliseconds(500))
        #expect(stall.bodiesReceived == 1)
        _ = try? await fleet.hosts[1].stop()
        await stall.stop()
    }

    @Test func postgresStoppedMidRunRefusesSendsAndRecoversWithoutARestart() async throws {
        let server = try await PostgresTestServer.startPrivate()
        defer { server.destroy() }
        let fleet = try await Fleet.start(on: server, settings: ["postgres_statement_timeout_ms=2000"])
        let token = Self.token()
        for index in 0..<4 {
            #expect(try await fleet.send(params(token: token, content: index), on: fleet.hosts[index % 2]).ok)
        }
        try await server.stop()
        for index in 4..<8 {
            let refused = try await fleet.send(params(token: token, content: index), on: fleet.hosts[index % 2])
            #expect(refused.error?.code == .stateUnavailable, "\(String(decoding: refused.json, as: UTF8.self))")
            #expect(refused.error?.retryable == true)
        }
        #expect(try await fleet.state(fleet.hosts[0])?.available == false)
        try await server.start()
        // Both daemons recover by themselves: the refused sends go out now, and the first
        // four, sent again, are duplicates.
        let clock = ContinuousClock()
        for index in 0..<8 {
            let host = fleet.hosts[(index + 1) % 2]
            var answer = try await fleet.send(params(token: token, content: index), on: host)
            let deadline = clock.now + .seconds(60)
            while answer.error?.code == .stateUnavailable, clock.now < deadline {
                try await Task.sleep(for: .milliseconds(500))
                answer = try await fleet.send(params(token: token, content: index), on: host)
            }
            let result = try #require(try answer.result(as: SendResult.self), "\(String(decoding: answer.json, as: UTF8.self))")
            #expect(result.duplicate == (index < 4))
        }
        #expect(try await delivered(token, expected: 8) == 8)
        await fleet.stop()
    }

    @Test func failOpenSendsDuringAnOutageWithThisHostsDuplicateSuppression() async throws {
        let server = try await PostgresTestServer.startPrivate()
        defer { server.destroy() }
        let fleet = try await Fleet.start(
            on: server, count: 1, settings: ["state_fail_open=true", "postgres_statement_timeout_ms=2000"])
        let host = fleet.hosts[0]
        let token = Self.token()
        try await server.stop()
        let sent = try await fleet.send(params(token: token, content: 1), on: host)
        #expect(sent.ok, "\(String(decoding: sent.json, as: UTF8.self))")
        // This host still suppresses its own duplicates.
        let again = try #require(try await fleet.send(params(token: token, content: 1), on: host).result(as: SendResult.self))
        #expect(again.duplicate)
        #expect(try await delivered(token, expected: 1) == 1)
        let outcome = try await host.stop()
        #expect(outcome.stderr.contains("duplicate suppression on this host only"), "the fallback is logged at warning")
    }

    /// A fleet sharing a credential key, and a credential `id` of workspace `ws-fleet` added
    /// once with the CLI (and `extraArguments`), from anywhere with the fleet's configuration,
    /// as an administrator adds it. Returns the fleet, the key file and the CLI's environment.
    private func fleetWithStoredCredential(
        id: String, _ extraArguments: [String] = []
    ) async throws -> (fleet: Fleet, key: String, cli: [String: String?]) {
        let server = try await PostgresTestServer.shared()
        let directory = try TestEnvironment.temporaryDirectory()
        let key = directory.appendingPathComponent("credential.key").path
        let bin = try TestEnvironment.sidecarPath()
        #expect(try await ChildProcess.run(bin, ["credentials", "generate-key", key]).status == 0)
        let fleet = try await Fleet.start(on: server, settings: ["credential_key_file=\(key)"])
        let cli: [String: String?] = [
            "SMTP_SIDECAR_STATE_BACKEND": "postgres",
            "SMTP_SIDECAR_POSTGRES_URL": server.url(database: fleet.database),
            "SMTP_SIDECAR_POSTGRES_PASSWORD_FILE": server.passwordFile, "STORED_PW": postfix.password,
        ]
        let added = try await ChildProcess.run(
            bin,
            ["credentials", "add", "--state-directory", directory.appendingPathComponent("cli-state").path, "--key-file", key,
             "--workspace", "ws-fleet", "--id", id, "--host", "localhost", "--port", "\(postfix.submissionPort)",
             "--username", postfix.user, "--ca-file", "\(postfix.directory)/tls/ca.pem", "--password-env", "STORED_PW"]
                + extraArguments,
            environment: cli)
        #expect(added.status == 0, "\(added.summary)")
        return (fleet, key, cli)
    }

    @Test func aCredentialStoredOnceIsUsedByEveryHostAndSealedInTheDatabase() async throws {
        let server = try await PostgresTestServer.shared()
        let bin = try TestEnvironment.sidecarPath()
        let (fleet, key, shared) = try await fleetWithStoredCredential(id: "stored-fleet", ["--daily", "2"])
        let listed = try await ChildProcess.run(bin, ["credentials", "list", "--key-file", key], environment: shared)
        #expect(listed.stdout.contains("stored-fleet") && !listed.stdout.contains(postfix.password), "\(listed.summary)")
        #expect(listed.stdout.contains("limits 2/day"), "\(listed.summary)")

        let token = Self.token()
        for (index, host) in fleet.hosts.enumerated() {
            var request = params(token: token, content: index)
            request.credential = nil
            request.credentialID = "stored-fleet"
            let sent = try await fleet.send(request, on: host)
            #expect(sent.ok, "\(String(decoding: sent.json, as: UTF8.self))")
        }
        // Its stored daily limit of 2 is counted across the fleet: one send on each host spent it.
        var third = params(token: token, content: 2)
        third.credential = nil
        third.credentialID = "stored-fleet"
        let refused = try await fleet.send(third, on: fleet.hosts[0])
        #expect(refused.error?.code == .rateLimited && (refused.error?.retryAfterMs ?? 0) > 0,
                "\(String(decoding: refused.json, as: UTF8.self))")
        #expect(try await delivered(token, expected: 2) == 2)
        // The database holds it sealed: the password is in no column, in any encoding.
        let dump = try await server.superuserPSQL([
            "-d", fleet.database, "-At", "-c",
            "SELECT encode(sealed, 'escape') || label || host || coalesce(username, '') FROM smtp_sidecar_credential",
        ])
        #expect(dump.contains("localhost") && !dump.contains(postfix.password))
        #expect(!dump.contains(Data(postfix.password.utf8).base64EncodedString()))
        await fleet.stop()
    }

    @Test func credentialStatusListsTheSharedStoreAndEachHostsOwnOutcomes() async throws {
        let fleet = try await fleetWithStoredCredential(id: "status-fleet").fleet

        var request = params(token: Self.token(), content: 0)
        request.credential = nil
        request.credentialID = "status-fleet"
        let sent = try await fleet.send(request, on: fleet.hosts[0])
        #expect(sent.ok, "\(String(decoding: sent.json, as: UTF8.self))")

        var statuses: [CredentialStatusResult.Credential] = []
        for host in fleet.hosts {
            let result = try await SidecarConnection.withConnection(socketPath: host.socketPath) { sidecar in
                try await sidecar.credentialStatus(workspaceID: "ws-fleet")
            }
            statuses.append(try #require(result.credentials.first { $0.id == "status-fleet" }))
        }
        // Both hosts list the credential the shared store holds; only the one that sent knows
        // the send and holds the warm connection.
        #expect(statuses[0].lastSuccessAt != nil && statuses[0].pool.open == 1)
        #expect(statuses[1].lastSuccessAt == nil && statuses[1].pool.open == 0)
        #expect(statuses.allSatisfy { $0.host == "localhost" && $0.username == postfix.user && $0.lastError == nil })
        await fleet.stop()
    }
}
