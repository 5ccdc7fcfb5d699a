import Foundation
import SidecarClient
import SidecarCore
import SidecarProtocol
import SidecarTestSupport
import Testing

/// The real daemon against `scripts/hostile-smtp/hostile_smtp.py` (issue 16): a dropped
/// connection, a 421 and a stall at every phase, garbage, over-long and unterminated
/// replies, a failed TLS handshake, plaintext injected after the 220 to STARTTLS, a pooled
/// connection closed silently while idle, and `421 4.7.0` too many connections. Each case
/// checks the answer proto-spec/ promises (code, phase, outcome), that the fault really
/// fired (the server's event log), and that the daemon let go of the connection.
@Suite(.serialized) struct ScriptedFaultIntegrationTests {
    static let password = "hunter2-not-real"

    static func params(port: Int, fault: ScriptedFault, subject: String = "hostile") throws -> SendParams {
        var params = SendParams(
            workspaceID: "ws-hostile",
            credential: CredentialParams(
                host: "127.0.0.1", port: port, security: .starttls, username: "user@example.com",
                password: Secret(password), auth: fault.auth, tls: .init(caPEM: try HostileSMTPServer.caPEM()),
                chunking: fault.chunking ? true : nil))
        params.from = "user@example.com"
        params.to = ["someone@example.com"]
        params.subject = subject
        params.text = "hello from the hostile suite"
        params.timeoutMs = fault.timeoutMs
        params.dedupWindowSeconds = 0
        if fault.attachmentBytes > 0 {
            // Bytes base64 cannot shrink: the message on the wire is 4/3 of this.
            var generator = SplitMix64(seed: 16)
            let bytes = (0..<fault.attachmentBytes).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            params.attachments = [
                AttachmentParams(filename: "big.bin", contentType: "application/octet-stream",
                                 contentBase64: Data(bytes).base64EncodedString())
            ]
        }
        return params
    }

    static func send(_ params: SendParams, _ daemon: Daemon) async throws -> SidecarConnection.RawResponse {
        try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
            try await sidecar.callRaw("send", params: params)
        }
    }

    /// Every point of the session × drop, 421 and stall, and the reply-format faults.
    static let faults: [ScriptedFault] = {
        var all: [ScriptedFault] = []
        // Before the greeting and instead of each reply up to DATA: nothing of the message
        // went out, so `not_sent` with the phase; 421 is `connection_failed` at any phase.
        for (point, phase) in [("greeting", "greeting"), ("ehlo", "ehlo"), ("starttls", "tls"), ("tls", "ehlo"),
                               ("auth", "auth"), ("mail", "mail"), ("rcpt", "rcpt"), ("data", "data")] {
            all.append(.at("\(point):drop", .connectionFailed, phase: phase))
            all.append(.at("\(point):421", .connectionFailed, phase: phase))
            all.append(.at("\(point):stall", .requestTimeout, phase: phase))
        }
        // AUTH LOGIN: the fault comes mid-exchange (before the password prompt).
        for action in ["drop", "421", "stall"] {
            all.append(ScriptedFault.at("auth:\(action)", action == "stall" ? .requestTimeout : .connectionFailed, phase: "auth")
                .with { $0.auth = .login })
        }
        // Mid-body, with a message several times the socket buffers (the server's receive
        // buffer is pinned small): the daemon is still writing when the fault comes.
        for action in ["drop", "421", "stall"] {
            for chunking in [false, true] {
                all.append(ScriptedFault.at("body:\(action)", action == "stall" ? .requestTimeout : .connectionFailed, phase: "data")
                    .with {
                        $0.chunking = chunking
                        $0.attachmentBytes = 8_000_000
                        $0.serverArguments = ["--rcvbuf", "65536", "--body-bytes", "65536"]
                        if action == "stall" { $0.timeoutMs = 4000 }
                    })
            }
        }
        // After the final dot (or BDAT LAST's bytes): the whole message went out. No reply
        // is `outcome_unknown`; a 421 is a final reply that refused it.
        for chunking in [false, true] {
            all.append(ScriptedFault.at("dot:drop", .outcomeUnknown, phase: "data", outcome: .outcomeUnknown).with { $0.chunking = chunking })
            all.append(ScriptedFault.at("dot:stall", .outcomeUnknown, phase: "data", outcome: .outcomeUnknown).with { $0.chunking = chunking })
            all.append(ScriptedFault.at("dot:unterminated", .outcomeUnknown, phase: "data", outcome: .outcomeUnknown).with { $0.chunking = chunking })
            all.append(ScriptedFault.at("dot:421", .connectionFailed, phase: "data").with { $0.chunking = chunking })
        }
        // With PIPELINING and CHUNKING the daemon writes MAIL, RCPT, `BDAT n LAST` and the
        // message at once: a server that drops before any reply may have taken it all (a
        // pipelining server may hold its replies back), and the attempt ended in `data`.
        all.append(ScriptedFault.at("mail:drop", .outcomeUnknown, phase: "data", outcome: .outcomeUnknown).with { $0.chunking = true })
        all.append(ScriptedFault.at("dot:garbage", .outcomeUnknown, phase: "data", outcome: .outcomeUnknown))
        // Replies that are no SMTP: garbage, a line past the decoder's limit, a line whose
        // end never comes (the server then closes, or stalls).
        for (point, phase) in [("greeting", "greeting"), ("ehlo", "ehlo"), ("mail", "mail")] {
            all.append(.at("\(point):garbage", .protocolViolation, phase: phase))
            all.append(.at("\(point):overlong", .protocolViolation, phase: phase))
            all.append(.at("\(point):unterminated", .connectionFailed, phase: phase))
            all.append(ScriptedFault.at("\(point):unterminated-stall", .requestTimeout, phase: phase)
                .with { $0.timeoutMs = ScriptedFault.stallMs })
        }
        // TLS: a fatal alert instead of a handshake; plaintext after the 220, in the same
        // read (refused before TLS starts) or just after it (it reaches the handshake).
        // The alert follows the 220 by 50 ms: a loaded client may read it before it began its
        // handshake, as data after the 220, which RFC 3207 §6 refuses (starttls_unavailable).
        all.append(ScriptedFault.at("starttls:tlsfail", .tlsFailed, phase: "tls").with {
            $0.codes = [.tlsFailed, .starttlsUnavailable]
        })
        all.append(.at("starttls:inject", .starttlsUnavailable, phase: "tls"))
        all.append(ScriptedFault.at("starttls:inject-late", .tlsFailed, phase: "tls")
            .with { $0.codes = [.tlsFailed, .starttlsUnavailable] })
        return all
    }()

    /// Stalls while the connection is set up (greeting, EHLO, STARTTLS, AUTH): the
    /// request's deadline passes in that phase.
    static let setupStalls: [ScriptedFault] = faults.filter(\.isSetupStall)
    static let otherFaults: [ScriptedFault] = faults.filter { !$0.isSetupStall }

    @Test(arguments: otherFaults)
    func theDaemonAnswersAHostileServerAsTheSpecSays(_ fault: ScriptedFault) async throws {
        try await Self.check(fault)
    }

    /// Without the pool, a deadline passing in connection setup names its phase.
    @Test(arguments: setupStalls)
    func aDeadlinePassingInConnectionSetupNamesItsPhaseWithoutThePool(_ fault: ScriptedFault) async throws {
        try await Self.check(fault, daemonArguments: ["--set", "pool_enabled=false"])
    }

    /// With the pool (the default), the same: the request waits on the pool while the pool
    /// opens a connection for it, and when its deadline passes the answer names how far that
    /// connection got (found by these tests: it used to say `connect` whatever the phase).
    @Test(arguments: setupStalls)
    func aDeadlinePassingInConnectionSetupNamesItsPhaseWithThePool(_ fault: ScriptedFault) async throws {
        try await Self.check(fault)
    }

    static func check(_ fault: ScriptedFault, daemonArguments: [String] = []) async throws {
        async let started = HostileSMTPServer.start(fault: fault.fault, chunking: fault.chunking, arguments: fault.serverArguments)
        let daemon = try await Daemon.start(daemonArguments)
        let server = try await started
        defer { daemon.process.signal(SIGKILL) }
        let params = try Self.params(port: server.port, fault: fault)
        let clock = ContinuousClock()
        let sentAt = clock.now
        let response = try await Self.send(params, daemon)
        let took = clock.now - sentAt
        let json = String(decoding: response.json, as: UTF8.self)
        // The answer comes by the deadline, not after the daemon waited on a server that
        // stopped reading (its own phase limits: 30 s and more). The slack is for the test
        // process, not the daemon: in fresh-clone runs nothing in the whole suite finishes
        // for its first ~10 s (every test, even pure ones, reports 9.9-10.1 s), and a case
        // that starts then measures that too (greeting:421 answered "after 14.3 s", twice).
        #expect(took < .milliseconds(fault.timeoutMs) + .seconds(12), "answered after \(took)")
        let result = try response.result(as: SendResult.self)

        #expect(!response.ok, "\(json)")
        #expect(response.error.map { fault.codes.contains($0.code) } == true, "code: \(json)")
        #expect(result?.phase == fault.phase, "phase: \(json)")
        #expect(result?.outcome == fault.outcome, "outcome: \(json)")
        if let error = response.error, fault.outcome == .outcomeUnknown {
            #expect(!error.retryable)
        }
        let point = fault.fault.split(separator: ":")[0]
        #expect(server.events.contains { $0.contains("fault \(point)") }, "the fault never fired: \(server.events)")
        // The message must not have been taken when the answer says it was not sent.
        #expect(server.count("queued 1") == 0)
        // The daemon lets go of a connection it gave up on (a stall mid-body reads
        // nothing, so the server cannot see it).
        if fault.fault != "body:stall" {
            #expect(await server.wait { $0.open == 0 }, "still open: \(server.events)")
        }
        _ = try await daemon.stop()
        await server.stop()
    }

    /// A pooled connection the server closed silently while idle (no 421) is not lent to
    /// the next send as if alive: it is sent, on a new connection.
    @Test func aPooledConnectionClosedSilentlyWhileIdleIsReplaced() async throws {
        let server = try await HostileSMTPServer.start(fault: "idle:drop", arguments: ["--idle-ms", "200"])
        let daemon = try await Daemon.start()
        let first = try await Self.send(
            try Self.params(port: server.port, fault: .at("idle:drop", .connectionFailed, phase: "mail"), subject: "one"), daemon)
        #expect(first.ok, "\(String(decoding: first.json, as: UTF8.self))")
        #expect(await server.wait { $0.count("fault idle drop") == 1 && $0.open == 0 }, "\(server.events)")
        let second = try await Self.send(
            try Self.params(port: server.port, fault: .at("idle:drop", .connectionFailed, phase: "mail"), subject: "two"), daemon)
        #expect(second.ok, "\(String(decoding: second.json, as: UTF8.self))")
        #expect(try second.result(as: SendResult.self)?.outcome == .sent)
        #expect(server.count("accept") == 2, "\(server.events)")
        #expect(server.events.contains("2 queued 2"), "\(server.events)")
        _ = try await daemon.stop()
        await server.stop()
    }

    /// `421 4.7.0` too many connections at the greeting: `connection_failed`, retryable,
    /// with the server's reply; nothing sent.
    @Test func tooManyConnectionsAtTheGreetingIsRetryableConnectionFailed() async throws {
        let server = try await HostileSMTPServer.start(fault: "greeting:421-busy")
        let daemon = try await Daemon.start()
        let response = try await Self.send(
            try Self.params(port: server.port, fault: .at("greeting:421-busy", .connectionFailed, phase: "greeting")), daemon)
        let json = String(decoding: response.json, as: UTF8.self)
        #expect(response.error?.code == .connectionFailed, "\(json)")
        #expect(response.error?.retryable == true, "\(json)")
        #expect(response.error?.smtp?.code == 421, "\(json)")
        #expect(response.error?.smtp?.enhancedCode == "4.7.0", "\(json)")
        let result = try response.result(as: SendResult.self)
        #expect(result?.outcome == .notSent)
        #expect(result?.phase == "greeting")
        #expect(await server.wait { $0.count("accept") == 1 && $0.open == 0 }, "\(server.events)")
        _ = try await daemon.stop()
        await server.stop()
    }
}
