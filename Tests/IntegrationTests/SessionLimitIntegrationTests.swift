import Foundation
import SidecarClient
import SidecarCore
import SidecarProtocol
import SidecarTestSupport
import Testing

/// Servers' per-session error limits through the daemon, against Postfix with its stock
/// limits (the harness's stockerrors listener).
@Suite(.serialized, .postfix) struct SessionLimitIntegrationTests {
    var postfix: PostfixInstance { PostfixInstance.current! }

    static let good = ["good1@example.test", "good2@example.test"]

    func params(port: Int, to: [String], subject: String) -> SendParams {
        var params = SendParams(
            workspaceID: "ws-limits",
            credential: CredentialParams(
                id: "cred-\(port)", host: "127.0.0.1", port: port, security: CredentialParams.Security.none,
                auth: CredentialParams.AuthMechanism.none))
        params.from = "sender@example.test"
        params.to = AddressList(to)
        params.subject = subject
        params.text = "limits"
        params.dedupWindowSeconds = 0
        return params
    }

    func send(_ params: SendParams, on sidecar: SidecarConnection) async throws -> (SidecarConnection.RawResponse, SendResult?) {
        let response = try await sidecar.callRaw("send", params: params)
        let recorder = SchemaRecorder()
        recorder.record(op: "send", [response.json])
        try await recorder.validate()
        return (response, try? response.result(as: SendResult.self))
    }

    /// Occurrences of `marker` in Postfix's log, once the log has caught up.
    func count(_ marker: String) async throws -> Int {
        try await Task.sleep(for: .milliseconds(400))
        return postfix.maillog.components(separatedBy: marker).count - 1
    }

    static func refused(_ result: SendResult?) -> [String] {
        (result?.recipients ?? []).filter { !$0.accepted }.map(\.address)
    }

    static func accepted(_ result: SendResult?) -> [String] {
        (result?.recipients ?? []).filter(\.accepted).map(\.address)
    }

    /// Stock Postfix: 20 refusals, then 421 for the next command; the two good recipients
    /// still get the message.
    @Test func refusedRecipientsDoNotCostTheOthersTheirDeliveryAtStockPostfixLimit() async throws {
        let daemon = try await Daemon.start()
        let tooManyBefore = try await count("too many errors")
        let unknown = (1...20).map { "unknown\($0)@example.test" }
        let (response, result) = try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
            try await send(params(port: postfix.stockErrorsPort, to: Self.good + unknown, subject: "stock a"), on: sidecar)
        }
        #expect(response.ok, "\(String(decoding: response.json, as: UTF8.self))")
        #expect(result?.outcome == .sent)
        #expect(Self.accepted(result) == Self.good)
        #expect(Self.refused(result) == unknown)
        // The first attempt did reach the real server's limit.
        #expect(try await count("too many errors") - tooManyBefore == 1)
        _ = try await daemon.stop()
    }
    /// A pooled connection whose transaction had an error reply is not lent again, so errors
    /// do not pile up across sends towards the server's per-session limit; one with a clean
    /// transaction is. Counted by the daemon's pool and by Postfix's log (QUIT, not a drop).
    @Test func aConnectionWithAnErrorReplyIsRetiredAfterItsSend() async throws {
        let daemon = try await Daemon.start()
        let connectsBefore = try await count(": connect from")
        let lostBefore = try await count("lost connection")
        let port = postfix.stockErrorsPort
        let stats = try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
            for index in 0..<3 {
                let (response, result) = try await send(
                    params(port: port, to: ["good1@example.test", "unknown\(index)@example.test"], subject: "mixed \(index)"),
                    on: sidecar)
                #expect(response.ok, "\(String(decoding: response.json, as: UTF8.self))")
                #expect(Self.refused(result) == ["unknown\(index)@example.test"])
            }
            for index in 0..<2 {
                let (response, _) = try await send(params(port: port, to: Self.good, subject: "clean \(index)"), on: sidecar)
                #expect(response.ok, "\(String(decoding: response.json, as: UTF8.self))")
            }
            return try await sidecar.stats()
        }
        // Three sends with a refusal: three connections. The two clean sends share a fourth.
        // (Counted by Postfix: a pool whose every connection closed starts its counters anew.)
        #expect(try await count(": connect from") - connectsBefore == 4)
        // Retired with QUIT, not dropped.
        #expect(try await count("lost connection") - lostBefore == 0)
        let pool = try #require(stats.pools?.first { $0.label.hasSuffix("/cred-\(port)/127.0.0.1:\(port)") })
        #expect(pool.discards == 0, "\(pool)")
        _ = try await daemon.stop()
    }
    /// After an SMTPUTF8 transaction the connection is not lent again: Exim marks every
    /// later message of that session SMTPUTF8. Two sends, two connections.
    @Test func aConnectionThatCarriedAnSMTPUTF8MessageIsRetired() async throws {
        let daemon = try await Daemon.start()
        let connectsBefore = try await count(": connect from")
        let port = postfix.stockErrorsPort
        try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
            let (first, result) = try await send(params(port: port, to: ["jörg@example.test"], subject: "utf8"), on: sidecar)
            #expect(first.ok, "\(String(decoding: first.json, as: UTF8.self))")
            #expect(result?.outcome == .sent)
            let (second, _) = try await send(params(port: port, to: Self.good, subject: "ascii"), on: sidecar)
            #expect(second.ok, "\(String(decoding: second.json, as: UTF8.self))")
        }
        #expect(try await count(": connect from") - connectsBefore == 2)
        _ = try await daemon.stop()
    }

    /// A credential's `max_messages_per_connection`: five sends with a limit of 2 take three
    /// connections, each closed with QUIT (the last at shutdown), none dropped.
    @Test func theCredentialsMessageLimitRetiresTheConnectionWithQuit() async throws {
        let daemon = try await Daemon.start()
        let connectsBefore = try await count(": connect from")
        let lostBefore = try await count("lost connection")
        let port = postfix.stockErrorsPort
        try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
            for index in 0..<5 {
                var limited = params(port: port, to: Self.good, subject: "limit \(index)")
                limited.credential?.maxMessagesPerConnection = 2
                let (response, result) = try await send(limited, on: sidecar)
                #expect(response.ok, "\(String(decoding: response.json, as: UTF8.self))")
                #expect(result?.outcome == .sent)
            }
        }
        #expect(try await count(": connect from") - connectsBefore == 3)
        _ = try await daemon.stop()
        #expect(try await count("lost connection") - lostBefore == 0)
    }
}
