import Foundation
import SidecarClient
import SidecarCore
import SidecarProtocol
import SidecarTestSupport
import Testing

/// The real daemon against servers that misbehave on purpose: loopback listeners that
/// accept and never answer (tarpits). Each test checks from the listener's side what the
/// daemon did: whether it connected at all, and whether it let go.
@Suite(.serialized) struct HostileServerIntegrationTests {
    static func credential(host: String = "127.0.0.1", port: Int, username: String = "user@example.com")
        -> CredentialParams
    {
        CredentialParams(host: host, port: port, username: username, password: Secret("hunter2-not-real"))
    }

    static func call<Params: Encodable & Sendable>(_ op: String, _ params: Params, _ daemon: Daemon) async throws
        -> SidecarConnection.RawResponse
    {
        try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
            try await sidecar.callRaw(op, params: params)
        }
    }

    /// `verify` takes the same SSRF guard as `send`: with no allow-list, loopback hosts
    /// are refused and the listeners never see a connection.
    @Test func verifyNeverConnectsToALoopbackHostThatIsNotAllowListed() async throws {
        let v4 = try await TarpitListener.start(host: "127.0.0.1")
        let second = try await TarpitListener.start(host: "127.0.0.2", port: v4.port)
        let v6 = try await TarpitListener.start(host: "::1", port: v4.port)
        let daemon = try await Daemon.start(["--set", "egress_allowed_cidrs="])
        for host in ["localhost", "127.0.0.1", "127.0.0.2", "::1", "[::1]"] {
            let response = try await Self.call(
                "verify", VerifyParams(workspaceID: "ws", credential: Self.credential(host: host, port: v4.port), timeoutMs: 1000),
                daemon)
            #expect(response.error?.code == .destinationForbidden, "\(host): \(String(decoding: response.json, as: UTF8.self))")
            #expect(response.error?.field == "params.credential.host")
        }
        let port25 = try await Self.call(
            "verify", VerifyParams(workspaceID: "ws", credential: Self.credential(port: 25), timeoutMs: 1000), daemon)
        #expect(port25.error?.code == .port25Blocked)
        #expect(v4.accepted + second.accepted + v6.accepted == 0)
        _ = try await daemon.stop()
        await v4.stop()
        await second.stop()
        await v6.stop()
    }

    static func sendParams(port: Int, timeoutMs: Int?, workspace: String = "ws", username: String = "user@example.com")
        -> SendParams
    {
        var params = SendParams(workspaceID: workspace, credential: credential(port: port, username: username))
        params.from = "user@example.com"
        params.to = ["someone@example.com"]
        params.subject = "tarpit"
        params.text = "hello"
        params.timeoutMs = timeoutMs
        params.dedupWindowSeconds = 0
        return params
    }

    /// A passed `timeout_ms` is `request_timeout` with the phase (not `pool_busy`, not the
    /// server's `timeout`), for send (pooled and direct) and verify; and the connection
    /// attempt it abandoned is closed: the tarpit sees EOF soon after, not minutes later.
    @Test(arguments: [true, false])
    func aPassedDeadlineIsRequestTimeoutAndClosesTheConnectionAttempt(pooled: Bool) async throws {
        let tarpit = try await TarpitListener.start()
        let daemon = try await Daemon.start(["--set", "pool_enabled=\(pooled)"])
        let sent = try await Self.call("send", Self.sendParams(port: tarpit.port, timeoutMs: 800), daemon)
        #expect(sent.error?.code == .requestTimeout, "\(String(decoding: sent.json, as: UTF8.self))")
        #expect(sent.error?.retryable == true)
        let phase = try sent.result(as: SendResult.self)?.phase
        #expect(phase == "connect" || phase == "greeting", "phase \(phase ?? "nil")")
        #expect(await tarpit.wait { $0.accepted >= 1 && $0.open == 0 }, "still open: \(tarpit.open) of \(tarpit.accepted)")

        let verified = try await Self.call(
            "verify", VerifyParams(workspaceID: "ws", credential: Self.credential(port: tarpit.port), timeoutMs: 800),
            daemon)
        #expect(verified.error?.code == .requestTimeout, "\(String(decoding: verified.json, as: UTF8.self))")
        #expect(await tarpit.wait { $0.accepted >= 2 && $0.open == 0 }, "still open: \(tarpit.open) of \(tarpit.accepted)")

        // A deadline that passed before anything could be done: still `request_timeout`.
        let instant = try await Self.call("send", Self.sendParams(port: tarpit.port, timeoutMs: 1), daemon)
        #expect(instant.error?.code == .requestTimeout, "\(String(decoding: instant.json, as: UTF8.self))")
        _ = try await daemon.stop()
        await tarpit.stop()
    }

    /// A URL attachment from a server that accepts and never answers ends at the request's
    /// deadline (not the fetcher's own 30 s), as `request_timeout` naming the attachment,
    /// and its connection is closed.
    @Test func aStalledAttachmentFetchEndsAtTheRequestsDeadline() async throws {
        let http = try await TarpitListener.start()
        let smtp = try await TarpitListener.start()
        let daemon = try await Daemon.start()
        var params = Self.sendParams(port: smtp.port, timeoutMs: 1000)
        params.attachments = [AttachmentParams(filename: "report.pdf", url: "http://127.0.0.1:\(http.port)/report.pdf")]
        let clock = ContinuousClock()
        let started = clock.now
        let response = try await Self.call("send", params, daemon)
        let took = clock.now - started
        #expect(response.error?.code == .requestTimeout, "\(String(decoding: response.json, as: UTF8.self))")
        #expect(response.error?.field == "params.attachments[0].url")
        // Far below the fetcher's own 30 s idle limit (a generous bound, not a timing claim).
        #expect(took < .seconds(20), "took \(took)")
        #expect(await http.wait { $0.accepted == 1 && $0.open == 0 }, "still open: \(http.open)")
        #expect(smtp.accepted == 0)
        _ = try await daemon.stop()
        await http.stop()
        await smtp.stop()
    }

    /// `shutdown_timeout_seconds` bounds the stop: with a send stuck in connection setup to
    /// a server that never answers, the daemon cancels it after the timeout, closes the
    /// connection and exits 0.
    @Test(arguments: [true, false])
    func sigtermWithAStalledConnectionSetupExitsAfterTheShutdownTimeout(pooled: Bool) async throws {
        let tarpit = try await TarpitListener.start()
        let daemon = try await Daemon.start(["--set", "shutdown_timeout_seconds=2", "--set", "pool_enabled=\(pooled)"])
        let client = try await RawClient.connect(daemon.socketPath)
        let params = Self.sendParams(port: tarpit.port, timeoutMs: nil)
        let json = String(decoding: try JSONEncoder().encode(params), as: UTF8.self)
        try await client.writeFrame(#"{"id":"stuck","op":"send","params":"# + json + "}")
        #expect(await tarpit.wait { $0.accepted >= 1 })
        daemon.process.signal(SIGTERM)
        // The stuck send would wait minutes for a greeting; the 2 s timeout plus slack bounds it.
        let outcome: ChildProcess.Outcome
        do {
            outcome = try await withTimeout(.seconds(15)) { try await daemon.process.wait() }
        } catch {
            daemon.process.signal(SIGKILL)
            _ = try? await daemon.process.wait()
            Issue.record("the daemon did not exit within shutdown_timeout_seconds + 13 s")
            await client.close()
            await tarpit.stop()
            return
        }
        #expect(outcome.status == 0, "\(outcome.summary)")
        #expect(await tarpit.wait(upTo: .seconds(5)) { $0.open == 0 })
        await client.close()
        await tarpit.stop()
    }

    /// The same with a server that took the whole message and withholds its final reply:
    /// after the shutdown timeout the send is cut (its outcome unknown), the connection
    /// closed, and the daemon exits 0.
    @Test(arguments: [true, false])
    func sigtermWithAServerStalledAfterTheBodyExitsAfterTheShutdownTimeout(pooled: Bool) async throws {
        let server = try await StallAfterBodySMTPServer.start()
        let daemon = try await Daemon.start(["--set", "shutdown_timeout_seconds=2", "--set", "pool_enabled=\(pooled)"])
        let client = try await RawClient.connect(daemon.socketPath)
        var params = Self.sendParams(port: server.port, timeoutMs: nil)
        params.credential = CredentialParams(
            host: "127.0.0.1", port: server.port, security: CredentialParams.Security.none, auth: CredentialParams.AuthMechanism.none)
        let json = String(decoding: try JSONEncoder().encode(params), as: UTF8.self)
        try await client.writeFrame(#"{"id":"stuck","op":"send","params":"# + json + "}")
        let clock = ContinuousClock()
        let giveUp = clock.now + .seconds(30)
        while server.bodiesReceived == 0, clock.now < giveUp { try await Task.sleep(for: .milliseconds(20)) }
        #expect(server.bodiesReceived == 1)
        daemon.process.signal(SIGTERM)
        let outcome: ChildProcess.Outcome
        do {
            outcome = try await withTimeout(.seconds(15)) { try await daemon.process.wait() }
        } catch {
            daemon.process.signal(SIGKILL)
            _ = try? await daemon.process.wait()
            Issue.record("the daemon did not exit within shutdown_timeout_seconds + 13 s")
            await client.close()
            await server.stop()
            return
        }
        #expect(outcome.status == 0, "\(outcome.summary)")
        // The kernel closed the daemon's sockets as it exited; the server reads that close
        // a moment later on a loaded machine.
        let closedBy = ContinuousClock.now + .seconds(5)
        while server.open != 0, ContinuousClock.now < closedBy { try await Task.sleep(for: .milliseconds(20)) }
        #expect(server.open == 0)
        await client.close()
        await server.stop()
    }
}
