import Foundation
import SidecarClient
import SidecarCore
import SidecarProtocol
import SidecarTestSupport
import Testing

/// Warm connection pools in the real daemon against a real Postfix, counted from Postfix's
/// own log: connections accepted and TLS handshakes made.
@Suite(.serialized, .postfix) struct PoolIntegrationTests {
    var postfix: PostfixInstance { PostfixInstance.current! }

    func params(workspace: String = "ws-pool", subject: String) -> SendParams {
        var params = SendParams(
            workspaceID: workspace,
            credential: CredentialParams(
                id: "cred-pool", host: "localhost", port: postfix.submissionPort, username: postfix.user,
                password: Secret(postfix.password), tls: .init(caPEM: postfix.caPEM)))
        params.from = postfix.user
        params.to = ["pool@example.test"]
        params.subject = subject
        params.text = "pooled"
        return params
    }

    /// Occurrences of `marker` in Postfix's log, once the log has caught up.
    func count(_ marker: String) async throws -> Int {
        try await Task.sleep(for: .milliseconds(400))
        return postfix.maillog.components(separatedBy: marker).count - 1
    }

    func send(_ params: SendParams, on sidecar: SidecarConnection) async throws -> SendResult {
        let response = try await sidecar.callRaw("send", params: params)
        #expect(response.ok, "\(String(decoding: response.json, as: UTF8.self))")
        return try #require(try response.result(as: SendResult.self))
    }

    @Test func manySendsShareOneConnectionAndOneTLSHandshake() async throws {
        let daemon = try await Daemon.start()
        let connectsBefore = try await count(": connect from")
        let handshakesBefore = try await count("TLS connection established from")
        let stats = try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
            for index in 0..<12 {
                let result = try await send(params(subject: "warm \(index)"), on: sidecar)
                #expect(result.outcome == .sent)
            }
            let raw = try await sidecar.callRaw("stats", params: NoParams?.none)
            let recorder = SchemaRecorder()
            recorder.record(op: "stats", [raw.json])
            try await recorder.validate()
            return try #require(try raw.result(as: StatsResult.self))
        }
        #expect(try await count(": connect from") - connectsBefore == 1)
        #expect(try await count("TLS connection established from") - handshakesBefore == 1)
        let pool = try #require(stats.pools?.first { $0.label == "ws-pool/cred-pool/localhost:\(postfix.submissionPort)" })
        #expect(pool.connectionsCreated == 1)
        #expect(pool.reuses == 11)
        #expect(pool.tlsHandshakes == 1)
        #expect(pool.idle == 1 && pool.leased == 0)
        // Shutdown QUITs the idle pooled connection.
        #expect(try await daemon.stop().status == 0)
        #expect(try await count(": disconnect from") - connectsBefore >= 1)
        #expect(postfix.maillog.contains("quit=1"))
    }

    @Test func aConnectionTheServerDroppedWhileIdleIsReplacedTransparently() async throws {
        let daemon = try await Daemon.start()
        let connectsBefore = try await count(": connect from")
        try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
            _ = try await send(params(subject: "before drop"), on: sidecar)
            // Kill the smtpd process holding the pooled connection: the server side goes away.
            let killed = try await ChildProcess.run(
                "/bin/sh", ["-c", "pids=$(ss -Htnp state established '( sport = :\(postfix.submissionPort) )' | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); echo $pids; kill -9 $pids"])
            #expect(killed.status == 0, "no smtpd was killed: \(killed.summary)")
            try await Task.sleep(for: .milliseconds(300))
            // The user sees a plain success: the stale connection was not their error.
            let result = try await send(params(subject: "after drop"), on: sidecar)
            #expect(result.outcome == .sent)
        }
        #expect(try await count(": connect from") - connectsBefore == 2)
        let outcome = try await daemon.stop()
        #expect(outcome.stderr.contains("smtp_retried_on_fresh_connection=true"), "\(outcome.stderr.suffix(3000))")
    }

    @Test func twoWorkspacesWithTheSameCredentialNeverShareAConnection() async throws {
        let daemon = try await Daemon.start()
        let connectsBefore = try await count(": connect from")
        let stats = try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
            for index in 0..<3 {
                _ = try await send(params(workspace: "ws-a", subject: "a \(index)"), on: sidecar)
                _ = try await send(params(workspace: "ws-b", subject: "b \(index)"), on: sidecar)
            }
            return try await sidecar.stats()
        }
        #expect(try await count(": connect from") - connectsBefore == 2)
        let pools = stats.pools ?? []
        #expect(Set(pools.map(\.label)) == ["ws-a/cred-pool/localhost:\(postfix.submissionPort)", "ws-b/cred-pool/localhost:\(postfix.submissionPort)"])
        #expect(pools.allSatisfy { $0.connectionsCreated == 1 && $0.reuses == 2 })
        _ = try await daemon.stop()
    }

    @Test func aChangedPasswordGetsItsOwnPool() async throws {
        let daemon = try await Daemon.start()
        let stats = try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
            _ = try await send(params(subject: "right"), on: sidecar)
            var wrong = params(subject: "wrong")
            wrong.credential?.password = Secret("not-the-password")
            let response = try await sidecar.callRaw("send", params: wrong)
            #expect(response.error?.code == .authFailed)
            _ = try await send(params(subject: "right again"), on: sidecar)
            return try await sidecar.stats()
        }
        // The wrong password got auth_failed, so it never rode the warm, authenticated
        // connection (which would have sent it); the right one kept its connection.
        let pool = try #require(stats.pools?.first { $0.label.hasPrefix("ws-pool/") })
        #expect(pool.connectionsCreated == 1 && pool.reuses == 1)
        _ = try await daemon.stop()
    }

    /// One workspace's sends to a server that accepts and never answers take at most its
    /// fair share of the daemon's connections: another workspace still sends at once.
    @Test func aWorkspaceStuckOnATarpitLeavesTheOthersTheirShare() async throws {
        let tarpit = try await TarpitListener.start()
        let daemon = try await Daemon.start([
            "--set", "pool_max_connections=8", "--set", "pool_max_wait_seconds=5", "--set", "shutdown_timeout_seconds=2",
        ])
        // 16 sends over 16 accounts of one workspace, each allowed 60 s.
        let stuck = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<16 {
                    group.addTask {
                        var params = SendParams(
                            workspaceID: "ws-tarpit",
                            credential: CredentialParams(
                                host: "127.0.0.1", port: tarpit.port, username: "user\(index)@example.com",
                                password: Secret("not-a-real-password")))
                        params.from = "user\(index)@example.com"
                        params.to = ["someone@example.com"]
                        params.text = "stuck"
                        params.timeoutMs = 60_000
                        params.dedupWindowSeconds = 0
                        _ = try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
                            try await sidecar.callRaw("send", params: params)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        // Until the pool has refused the stuck workspace more connections: some of its sends wait.
        let clock = ContinuousClock()
        let giveUp = clock.now + .seconds(60)
        var waiting = 0
        while waiting == 0, clock.now < giveUp {
            try await Task.sleep(for: .milliseconds(50))
            let stats = try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
                try await sidecar.callRaw("stats", params: NoParams?.none).result(as: StatsResult.self)
            }
            waiting = stats?.pools?.reduce(0) { $0 + $1.waiting } ?? 0
        }
        #expect(waiting > 0)
        #expect(tarpit.accepted <= 4, "the stuck workspace holds \(tarpit.accepted) connections")
        let healthy = try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
            try await sidecar.callRaw("send", params: params(workspace: "ws-healthy", subject: "fair share"))
        }
        #expect(healthy.ok, "\(String(decoding: healthy.json, as: UTF8.self))")
        #expect(try healthy.result(as: SendResult.self)?.outcome == .sent)
        stuck.cancel()
        _ = try await daemon.stop()
        await tarpit.stop()
    }
}
