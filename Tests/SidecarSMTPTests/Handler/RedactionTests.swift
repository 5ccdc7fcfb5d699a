import Foundation
import Logging
import NIOCore
import SidecarCore
import SidecarTestSupport
import Testing

@testable import SidecarSMTP

/// With trace logging on, no password, token or AUTH payload (plain or base64) reaches a
/// log, an error message or a description.
@Suite struct RedactionTests {
    static let password = "S3cr3t-Passw0rd-xyz"
    static let token = "ya29.A0ARrdaM-secret-token"
    static let user = "user@example.com"

    /// Every form of the secrets that must never appear.
    static var forbidden: [String] {
        func b64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }
        return [
            password, token,
            b64(password), b64(token),
            b64("\0\(user)\0\(password)"),
            b64("user=\(user)\u{1}auth=Bearer \(token)\u{1}\u{1}"),
            b64("n,a=\(user),\u{1}host=localhost\u{1}port=587\u{1}auth=Bearer \(token)\u{1}\u{1}"),
            String(b64("\0\(user)\0\(password)").dropLast(4)),
        ]
    }

    static func check(_ text: String, _ what: String) {
        for secret in forbidden {
            #expect(!text.contains(secret), "\(what) contains a secret form")
        }
    }

    @Test(arguments: [
        (SMTPCredentials.password(user, Secret(password), mechanism: .plain), "AUTH PLAIN"),
        (SMTPCredentials.password(user, Secret(password), mechanism: .login), "AUTH LOGIN"),
        (SMTPCredentials.oauth2(user, token: Secret(token)), "AUTH XOAUTH2"),
        (SMTPCredentials.oauth2(user, token: Secret(token), mechanism: .oauthbearer), "AUTH OAUTHBEARER"),
    ])
    func authExchangeIsRedactedInTraceLogsErrorsAndDescriptions(credentials: SMTPCredentials, command: String) throws {
        let capture = LogCapture()
        let configuration = SMTPClientStateMachine.Configuration(
            clientName: "client.test",
            security: .plaintext,
            credentials: credentials,
            timeouts: Fixtures.timeouts,
            allowsPlaintextAuthentication: true
        )
        let smtp = try EmbeddedSMTP(configuration, logger: capture.logger(level: .trace))
        try smtp.server("220 mx\r\n250-mx\r\n250 AUTH PLAIN LOGIN XOAUTH2\r\n")
        var wire = try smtp.client()
        switch credentials.mechanism {
        case .login?:
            try smtp.server("334 VXNlcm5hbWU6\r\n")
            try smtp.server("334 UGFzc3dvcmQ6\r\n")
        case .xoauth2?, .oauthbearer?:
            try smtp.server("334 eyJzdGF0dXMiOiI0MDEifQ==\r\n")
        default:
            break
        }
        wire += try smtp.client()
        // The secret did go on the wire (to its rightful recipient)...
        #expect(wire.contains(command))
        #expect(Self.forbidden.contains { wire.contains($0) })
        // ...and the server echoes it back in its refusal, as some do.
        let echoed = Self.forbidden.first { wire.contains($0) }!
        try smtp.server("535 5.7.8 Authentication failed for \(echoed)\r\n")
        var failure: SMTPFailure?
        do { _ = try smtp.connected.value() } catch let error as SMTPFailure { failure = error }
        let error = try #require(failure)
        #expect(error.error.code == .authFailed)

        let log = capture.text
        #expect(log.contains("smtp_command=\(command)"))
        #expect(log.contains("<redacted>"))
        Self.check(log, "the trace log")
        Self.check(error.error.message, "the error message")
        Self.check("\(error)", "the error description")
        Self.check(String(reflecting: error), "the error's debug description")
        Self.check(error.error.smtp?.text ?? "", "the reported reply")
        Self.check("\(credentials)", "the credentials' description")
        Self.check(String(reflecting: credentials), "the credentials' debug description")
        var dumped = ""
        dump(credentials, to: &dumped)
        Self.check(dumped, "a dump of the credentials")
        let configurationText = "\(SMTPConfiguration(host: "h", credentials: credentials))"
        Self.check(configurationText, "the configuration's description")
        Self.check(String(reflecting: SMTPCommand.authResponse(Secret(Self.password))), "a command's debug description")
    }
}
