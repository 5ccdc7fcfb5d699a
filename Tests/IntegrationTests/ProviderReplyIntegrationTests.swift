import Foundation
import SidecarClient
import SidecarCore
import SidecarProtocol
import SidecarTestSupport
import Testing

/// The big providers' documented replies (issue 20), replayed by the scripted server at
/// the point each provider sends them: each answers with its own code, `retry_after_ms`
/// for a throttle or a spent quota, and the provider's reply in `smtp`; a throttle also
/// backs the account's pool off.
@Suite(.serialized) struct ProviderReplyIntegrationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var provider: String
        var point: String
        var reply: String
        var code: ErrorCode
        var phase: String
        var retryAfterMs: Int?
        var backsOff: Bool

        var testDescription: String { "\(provider) \(reply.prefix(40))" }
    }

    static let cases: [Case] = [
        Case(provider: "Amazon SES", point: "dot", reply: "454 Throttling failure: Maximum sending rate exceeded.",
             code: .throttled, phase: "data", retryAfterMs: 1_000, backsOff: true),
        Case(provider: "Amazon SES", point: "dot", reply: "454 Throttling failure: Daily message quota exceeded.",
             code: .quotaExceeded, phase: "data", retryAfterMs: 3_600_000, backsOff: true),
        Case(provider: "Gmail", point: "mail", reply: "550 5.4.5 Daily user sending limit exceeded. For more information go to",
             code: .quotaExceeded, phase: "mail", retryAfterMs: 3_600_000, backsOff: false),
        Case(provider: "Gmail", point: "mail", reply: "421 4.7.0 Try again later, closing connection. (MAIL) gsmtp",
             code: .throttled, phase: "mail", retryAfterMs: 60_000, backsOff: true),
        Case(provider: "Gmail", point: "auth", reply: "454 4.7.0 Too many login attempts, please try again later. gsmtp",
             code: .throttled, phase: "auth", retryAfterMs: 60_000, backsOff: true),
        Case(provider: "Microsoft 365", point: "mail", reply: "432 4.3.2 Concurrent connections limit exceeded.",
             code: .throttled, phase: "mail", retryAfterMs: 1_000, backsOff: true),
        Case(provider: "Microsoft 365", point: "dot",
             reply: "554 5.2.252 SendAsDenied; user@example.com not allowed to send as someone@example.com",
             code: .senderNotAllowed, phase: "data", retryAfterMs: nil, backsOff: false),
        Case(provider: "Microsoft 365", point: "auth",
             reply: "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.",
             code: .smtpAuthDisabled, phase: "auth", retryAfterMs: nil, backsOff: false),
        Case(provider: "Microsoft 365", point: "auth",
             reply: "550 5.7.30 Basic authentication is not supported for Client Submission.",
             code: .smtpAuthDisabled, phase: "auth", retryAfterMs: nil, backsOff: false),
    ]

    @Test(arguments: cases)
    func aProvidersReplyGetsItsOwnCode(_ scenario: Case) async throws {
        let fault = ScriptedFault(fault: "\(scenario.point):reply=\(scenario.reply)", codes: [scenario.code], phase: scenario.phase)
        async let started = HostileSMTPServer.start(fault: fault.fault)
        let daemon = try await Daemon.start()
        let server = try await started
        defer { daemon.process.signal(SIGKILL) }
        let response = try await ScriptedFaultIntegrationTests.send(
            try ScriptedFaultIntegrationTests.params(port: server.port, fault: fault), daemon)
        let json = String(decoding: response.json, as: UTF8.self)
        #expect(response.error?.code == scenario.code, "\(json)")
        #expect(response.error?.retryable == (scenario.retryAfterMs != nil), "\(json)")
        #expect(response.error?.retryAfterMs == scenario.retryAfterMs, "\(json)")
        let code = Int(scenario.reply.prefix(3))
        #expect(response.error?.smtp?.code == code, "\(json)")
        let result = try response.result(as: SendResult.self)
        #expect(result?.outcome == .notSent, "\(json)")
        #expect(result?.phase == scenario.phase, "\(json)")
        #expect(server.events.contains { $0.contains("fault \(scenario.point)") }, "\(server.events)")
        // A refused MAIL with DATA pipelined behind it: the scripted server (not a real one)
        // answers the DATA with 354, and RFC 2920 has the client end it at once, empty.
        #expect(server.count("queued 1") == 0 || server.events.contains { $0.hasSuffix("body 0") }, "\(server.events)")
        let stats = try await SidecarConnection.withConnection(socketPath: daemon.socketPath) {
            try await $0.callRaw("stats", params: NoParams?.none)
        }
        var backoffs = 0
        if case .array(let pools)? = try JSONValue.parse(stats.json)["result"]?["pools"] {
            backoffs = pools.compactMap { $0["backoffs"]?.number }.reduce(0) { $0 + Int($1) }
        }
        #expect((backoffs > 0) == scenario.backsOff, "back-offs \(backoffs): \(String(decoding: stats.json, as: UTF8.self))")
        _ = try await daemon.stop()
        await server.stop()
    }

    /// A spent daily quota marks the credential: later sends are refused here without a
    /// connection until the provider's window frees some, also after a restart.
    @Test func aSpentQuotaIsRefusedLocallyUntilItFrees() async throws {
        let fault = ScriptedFault(
            fault: "dot:reply=454 Throttling failure: Daily message quota exceeded.", codes: [.quotaExceeded], phase: "data")
        let server = try await HostileSMTPServer.start(fault: fault.fault)
        let state = try TestEnvironment.temporaryDirectory().appendingPathComponent("state").path
        var daemon = try await Daemon.start(stateDirectory: state)
        defer { daemon.process.signal(SIGKILL) }
        let first = try await ScriptedFaultIntegrationTests.send(
            try ScriptedFaultIntegrationTests.params(port: server.port, fault: fault, subject: "first"), daemon)
        #expect(first.error?.code == .quotaExceeded, "\(String(decoding: first.json, as: UTF8.self))")
        let accepted = server.count("accept")
        for round in 0..<2 {
            let later = try await ScriptedFaultIntegrationTests.send(
                try ScriptedFaultIntegrationTests.params(port: server.port, fault: fault, subject: "later \(round)"), daemon)
            let json = String(decoding: later.json, as: UTF8.self)
            #expect(later.error?.code == .quotaExceeded, "\(json)")
            #expect(later.error?.retryable == true)
            #expect((3_500_000...3_600_000).contains(later.error?.retryAfterMs ?? 0), "\(json)")
            #expect(later.error?.message.contains("without connecting") == true, "\(json)")
            #expect(try later.result(as: SendResult.self)?.outcome == .notSent)
            #expect(server.count("accept") == accepted, "no connection for a spent quota")
            // And after a restart, from the state directory.
            _ = try await daemon.stop()
            daemon = try await Daemon.start(stateDirectory: state)
        }
        _ = try await daemon.stop()
        await server.stop()
    }
}
