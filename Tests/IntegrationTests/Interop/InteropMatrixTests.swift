import Foundation
import SidecarClient
import SidecarCore
import SidecarProtocol
import SidecarTestSupport
import Testing

/// One matrix of cases run through the daemon's socket against every real server of
/// `scripts/interop-harness.sh` (Exim, chasquid, aiosmtpd, OpenSMTPD, Postfix with its stock
/// limits), each started once for the suite. Every case reads back what the server
/// delivered (its Maildir) or what it answered; where a server cannot do something the
/// case says why in code. Cases run one at a time: one restarts its server, and each
/// starts its own daemon. No case measures time; deliveries are polled with a generous
/// deadline.
///
/// The cases are in the extensions: +Verify, +Content, +Envelope, +Connections.
/// `INTEROP_SERVERS=exim,postfix swift test --filter Interop` runs a part of the matrix.
@Suite(.serialized, .interopServers, .enabled(if: InteropServers.isAvailable, "needs root and scripts/interop-harness.sh"))
struct InteropMatrixTests {
    static let servers = InteropServers.selected

    /// Every server with STARTTLS and implicit TLS, and plaintext for a server without TLS.
    static let securityMatrix: [(InteropServer, CredentialParams.Security)] = servers.flatMap {
        server -> [(InteropServer, CredentialParams.Security)] in
        let modes: [CredentialParams.Security] = server.noTLSReason == nil ? [.starttls, .tls] : [.starttls, .tls, .none]
        return modes.map { (server, $0) }
    }

    static let sender = "sender@example.test"

    /// A response with its decoded `send` result.
    struct Sent: Sendable {
        var response: SidecarConnection.RawResponse
        var result: SendResult?
        var json: String { String(decoding: response.json, as: UTF8.self) }
        var recipients: [SendResult.Recipient] { result?.recipients ?? [] }
    }

    static func token() -> String { String(UUID().uuidString.prefix(12)) }

    /// A plain text message to `to` carrying `token`, from the harness's sender.
    static func message(
        _ instance: InteropInstance, token: String, to: [String] = ["rcpt1@example.test"],
        credential: CredentialParams? = nil
    ) -> SendParams {
        var params = SendParams(workspaceID: "ws-interop", credential: credential ?? instance.credential())
        params.from = "Interop Sender <\(sender)>"
        params.to = AddressList(to)
        params.subject = "interop \(instance.server) \(token)"
        params.text = "Hello from the interop matrix, \(token).\n"
        params.headers = HeaderList([.init(name: MaildirIndex.tokenHeader, value: token)])
        params.dedupWindowSeconds = 0
        return params
    }

    /// Runs `body` with a fresh daemon, which it then stops; the daemon must exit 0. A send
    /// waiting for one of its credential's four pooled connections may wait two minutes
    /// (not the default 10 s), so that a slow, loaded machine never makes it `pool_busy`.
    static func withDaemon<Result: Sendable>(_ body: (Daemon) async throws -> Result) async throws -> Result {
        let daemon = try await Daemon.start(["--set", "pool_max_wait_seconds=120"])
        let result: Result
        do {
            result = try await body(daemon)
        } catch {
            let outcome = try? await daemon.stop()
            print("daemon log of a failed interop case:\n\(outcome?.stderr.suffix(8000) ?? "")")
            throw error
        }
        let outcome = try await daemon.stop()
        #expect(outcome.status == 0, "\(outcome.summary.suffix(4000))")
        return result
    }

    static func send(_ params: SendParams, on sidecar: SidecarConnection) async throws -> Sent {
        let response = try await sidecar.callRaw("send", params: params)
        return Sent(response: response, result: try? response.result(as: SendResult.self))
    }

    /// One send on its own client connection.
    static func send(_ params: SendParams, daemon: Daemon) async throws -> Sent {
        try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { try await send(params, on: $0) }
    }

    /// `verify` with `credential`.
    static func verify(_ credential: CredentialParams, daemon: Daemon) async throws -> SidecarConnection.RawResponse {
        try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
            try await sidecar.callRaw("verify", params: VerifyParams(workspaceID: "ws-interop", credential: credential))
        }
    }

    /// Expects a send answered `sent` with exactly `accepted` accepted and `refused`
    /// refused (550) recipients.
    static func expectSent(
        _ sent: Sent, accepted: [String], refused: [String] = [], sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(sent.response.ok, "\(sent.json)", sourceLocation: sourceLocation)
        #expect(sent.result?.outcome == .sent, "\(sent.json)", sourceLocation: sourceLocation)
        #expect(sent.result?.smtp?.code == 250, "\(sent.json)", sourceLocation: sourceLocation)
        #expect(
            Set(sent.recipients.filter(\.accepted).map(\.address)) == Set(accepted), "\(sent.json)",
            sourceLocation: sourceLocation)
        let refusals = sent.recipients.filter { !$0.accepted }
        #expect(Set(refusals.map(\.address)) == Set(refused), "\(sent.json)", sourceLocation: sourceLocation)
        #expect(refusals.allSatisfy { $0.smtp?.code == 550 }, "\(sent.json)", sourceLocation: sourceLocation)
    }
}
