import Logging
import SidecarCore
import SidecarEgress
import SidecarProtocol
import SidecarState

@testable import SidecarMail

/// Sends to a loopback server that nothing connects to: the transports in these tests are
/// fakes, and the SSRF guard allows loopback so that it vets without DNS.
enum SendFixtures {
    static let logger = Logger(label: "test")

    /// A plain text send with no credential secret. `window` is `dedup_window_seconds`
    /// (0: no duplicate suppression).
    static func params(
        subject: String = "hello", window: Int? = 0, limits: CredentialParams.Limits? = nil,
        onError: SendParams.OnError? = nil
    ) -> SendParams {
        var params = SendParams(
            workspaceID: "ws-orchestration",
            credential: CredentialParams(
                id: "cred-1", host: "127.0.0.1", port: 2525, security: CredentialParams.Security.none,
                auth: CredentialParams.AuthMechanism.none, limits: limits))
        params.from = "sender@example.test"
        params.to = AddressList(["rcpt@example.test"])
        params.subject = subject
        params.text = "body"
        params.dedupWindowSeconds = window
        params.onError = onError
        return params
    }

    static let loopback = DestinationResolver(policy: EgressPolicy(allowedCIDRs: [CIDR("127.0.0.0/8")!]))

    static func operations(
        _ transport: some MailTransport, dedup: DedupStore? = nil, rateLimiter: RateLimiter? = nil
    ) -> MailOperations {
        MailOperations(
            settings: MailSettings(), transport: transport,
            policy: MailPolicy(destinations: loopback, dedup: dedup, rateLimiter: rateLimiter))
    }
}

/// What a send answered, taken apart.
struct SendAnswer {
    /// Whether the response was `ok: true`.
    var ok: Bool
    var result: SendResult?
    /// The response's error (`ok: false`), or the result's (`on_error: continue`).
    var error: SidecarError?

    init(_ outcome: Response.Outcome) {
        switch outcome {
        case .success(let encodable):
            ok = true
            result = encodable as? SendResult
            error = result?.error
        case .failure(let error, let partial):
            ok = false
            result = partial as? SendResult
            self.error = error
        }
    }
}

extension MailOperations {
    func send(_ params: SendParams) async -> SendAnswer {
        SendAnswer(await send(params, logger: SendFixtures.logger))
    }
}
