import Foundation
import SidecarClient
import SidecarCore
import SidecarProtocol
import SidecarTestSupport
import Testing

/// Sends with a caller's access token through the daemon to a real server that checks
/// OAuth tokens (scripts/oauth-harness.sh: aiosmtpd with OAUTHBEARER and XOAUTH2 against a
/// token endpoint): the mechanism chosen, the bytes delivered, an expired token refused
/// with the server's reason, and no token in the daemon's log or answers.
@Suite(.serialized, .enabled(if: OAuthHarness.isAvailable, "needs python3 and openssl"))
struct OAuthSMTPIntegrationTests {
    static func message(_ credential: CredentialParams, token: String) -> SendParams {
        var params = SendParams(workspaceID: "ws-oauth", credential: credential)
        params.from = "OAuth Sender <sender@example.test>"
        params.to = AddressList(["rcpt@example.test"])
        params.subject = "oauth \(token)"
        params.text = "Sent with an access token, \(token).\n"
        params.headers = HeaderList([.init(name: MaildirIndex.tokenHeader, value: token)])
        params.dedupWindowSeconds = 0
        return params
    }

    static func withPeers(_ body: (OAuthHarness, Daemon) async throws -> Void) async throws {
        let harness = try await OAuthHarness.start()
        let daemon: Daemon
        do {
            daemon = try await Daemon.start()
        } catch {
            await harness.stop()
            throw error
        }
        do {
            try await body(harness, daemon)
        } catch {
            let outcome = try? await daemon.stop()
            await harness.stop()
            print("daemon log of a failed OAuth case:\n\(outcome?.stderr.suffix(8000) ?? "")")
            throw error
        }
        let outcome = try await daemon.stop()
        let issued = (try await harness.control()["issued_access_tokens"] as? [String]) ?? []
        await harness.stop()
        #expect(outcome.status == 0)
        // The tokens reached the server, never the daemon's debug log.
        for token in issued {
            #expect(!outcome.stderr.contains(token), "an access token is in the daemon's log")
        }
    }

    static func send(_ params: SendParams, _ daemon: Daemon) async throws -> SidecarConnection.RawResponse {
        try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { try await $0.callRaw("send", params: params) }
    }

    @Test(arguments: [
        (CredentialParams.Security.tls, CredentialParams.AuthMechanism.auto, "OAUTHBEARER"),
        (.starttls, .auto, "OAUTHBEARER"),
        (.tls, .xoauth2, "XOAUTH2"),
        (.starttls, .oauthbearer, "OAUTHBEARER"),
    ])
    func aTokenSendsWithTheMechanismChosen(
        security: CredentialParams.Security, auth: CredentialParams.AuthMechanism, mechanism: String
    ) async throws {
        try await Self.withPeers { harness, daemon in
            let token = try await harness.accessToken()
            let marker = String(UUID().uuidString.prefix(12))
            let response = try await Self.send(
                Self.message(harness.credential(token: token, security: security, auth: auth), token: marker), daemon)
            let json = String(decoding: response.json, as: UTF8.self)
            #expect(response.error == nil, "\(json)")
            #expect(try response.result(as: SendResult.self)?.outcome == .sent)
            #expect(!json.contains(token))
            let counters = try await harness.auth(mechanism)
            #expect(counters.successes == 1 && counters.failures == 0, "\(counters)")
            let deliveries = try harness.maildir.deliveries(token: marker)
            #expect(deliveries.count == 1)
            #expect(deliveries.first?.headerValues("X-OAuth-Harness-Auth").first == "\(harness.user) delegated")
        }
    }

    /// An expired token: `auth_failed`, not retryable, with the status the server gave in
    /// its error challenge, nothing delivered, and the token in no answer.
    @Test(arguments: [(CredentialParams.AuthMechanism.oauthbearer, "invalid_token"), (.xoauth2, "401")])
    func anExpiredTokenIsRefusedWithTheServersStatus(auth: CredentialParams.AuthMechanism, status: String) async throws {
        try await Self.withPeers { harness, daemon in
            let token = try await harness.accessToken()
            _ = try await harness.control("/expire?token=\(token)")
            let marker = String(UUID().uuidString.prefix(12))
            let response = try await Self.send(Self.message(harness.credential(token: token, auth: auth), token: marker), daemon)
            let json = String(decoding: response.json, as: UTF8.self)
            #expect(response.error?.code == .authFailed, "\(json)")
            #expect(response.error?.retryable == false)
            #expect(response.error?.message.contains("\"\(status)\"") == true, "\(json)")
            #expect(!json.contains(token))
            let counters = try await harness.auth(auth.rawValue.uppercased())
            #expect(counters.failures == 1, "\(counters)")
            #expect(try harness.maildir.deliveries(token: marker).isEmpty)
        }
    }

    /// `verify` with a token authenticates with it.
    @Test func verifyAuthenticatesWithTheToken() async throws {
        try await Self.withPeers { harness, daemon in
            let token = try await harness.accessToken()
            let response = try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
                try await sidecar.callRaw(
                    "verify", params: VerifyParams(workspaceID: "ws-oauth", credential: harness.credential(token: token)))
            }
            #expect(response.error == nil, "\(String(decoding: response.json, as: UTF8.self))")
            let counters = try await harness.auth("OAUTHBEARER")
            #expect(counters.successes == 1)
        }
    }
}
