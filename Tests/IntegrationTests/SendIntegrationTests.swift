import Foundation
import SidecarClient
import SidecarCore
import SidecarProtocol
import SidecarTestSupport
import Testing

/// `send` and `verify` through the daemon's socket, against a real Postfix with TLS and
/// SASL AUTH (scripts/postfix-harness.sh), reading what it delivered from its Maildir.
@Suite(.serialized, .postfix) struct SendIntegrationTests {
    var postfix: PostfixInstance { PostfixInstance.current! }

    func credential(port: Int, security: CredentialParams.Security? = nil, password: String? = nil,
                    auth: CredentialParams.AuthMechanism? = nil, trustCA: Bool = true) -> CredentialParams {
        CredentialParams(
            id: "cred-\(port)", host: "localhost", port: port, security: security, username: postfix.user,
            password: Secret(password ?? postfix.password), auth: auth,
            tls: trustCA ? .init(caPEM: postfix.caPEM) : nil)
    }

    func send(_ params: SendParams, daemon: Daemon) async throws -> SidecarConnection.RawResponse {
        let response = try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
            try await sidecar.callRaw("send", params: params)
        }
        // Every live response must match proto-spec/schema.
        let recorder = SchemaRecorder()
        recorder.record(op: "send", [response.json])
        try await recorder.validate()
        return response
    }

    /// The delivered message whose raw text carries `token` (in an ASCII header), parsed by
    /// Python's email package.
    func delivered(_ token: String) async throws -> JSONValue {
        for _ in 0..<100 {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: postfix.maildir)) ?? []
            for name in names {
                let path = "\(postfix.maildir)/\(name)"
                guard let text = try? String(contentsOfFile: path, encoding: .utf8), text.contains(token) else { continue }
                let parser = try TestEnvironment.repositoryRoot()
                    .appendingPathComponent("Tests/SidecarMessageTests/Fixtures/parse_message.py").path
                let outcome = try await ChildProcess.run("/bin/sh", ["-c", "python3 '\(parser)' < '\(path)'"])
                guard outcome.status == 0 else { throw TestEnvironmentError(outcome.summary) }
                return try JSONValue.parse(Data(outcome.stdout.utf8))
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestEnvironmentError("no delivered message contains \(token)")
    }

    static func leaves(_ value: JSONValue?) -> [JSONValue] {
        guard let value else { return [] }
        if case .array(let parts) = value["parts"] { return parts.flatMap { leaves($0) } }
        return [value]
    }

    @Test(arguments: ["starttls", "tls"])
    func sendDeliversExactlyOverEachTLSMode(mode: String) async throws {
        let daemon = try await Daemon.start()
        let token = UUID().uuidString.prefix(8)
        let attachment = (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        var params = SendParams(
            workspaceID: "ws-1",
            credential: mode == "tls"
                ? credential(port: postfix.smtpsPort, security: .tls) : credential(port: postfix.submissionPort))
        params.from = "Sidecar Tests <\(postfix.user)>"
        params.to = ["Zoë Recipient <to@example.test>, \"Doe, Jane\" <jane@example.test>"]
        params.cc = ["cc@example.test"]
        params.bcc = ["hidden@example.test"]
        params.replyTo = "replies@example.test"
        params.subject = "Grüße \(token) – \(mode)"
        params.bodyFormat = .html
        params.text = "Plain text\n.a line starting with a dot\n"
        params.html = "<p>HTML <b>body</b></p>"
        params.priority = .high
        params.headers = HeaderList([.init(name: "X-Campaign", value: "q4"), .init(name: "X-Test-Token", value: String(token))])
        params.attachments = [
            AttachmentParams(filename: "données.bin", contentType: "application/octet-stream",
                             contentBase64: Data(attachment).base64EncodedString())
        ]
        let response = try await send(params, daemon: daemon)
        #expect(response.ok, "\(String(decoding: response.json, as: UTF8.self))")
        let result = try #require(try response.result(as: SendResult.self))
        #expect(result.outcome == .sent)
        #expect(result.smtp?.code == 250)
        #expect(result.smtp?.text.contains("queued as") == true)
        #expect(result.recipients.count == 4 && result.recipients.allSatisfy(\.accepted))

        let message = try await delivered(String(token))
        #expect(message["subject"]?.string == "Grüße \(token) – \(mode)")
        #expect(message["message_id"]?.string == result.messageID)
        #expect(message["to"] == .array([
            .object(["display_name": .string("Zoë Recipient"), "addr_spec": .string("to@example.test")]),
            .object(["display_name": .string("Doe, Jane"), "addr_spec": .string("jane@example.test")]),
        ]))
        #expect(message["headers"]?["x-campaign"] == .array([.string("q4")]))
        #expect(message["headers"]?["x-priority"] != nil)
        // Bcc is delivered to, but never written into the message.
        #expect(message["headers"]?["bcc"] == nil)
        let leaves = Self.leaves(message["structure"])
        let file = try #require(leaves.first { $0["filename"]?.string == "données.bin" })
        #expect(file["payload_base64"]?.string == Data(attachment).base64EncodedString())
        let text = try #require(leaves.first { $0["content_type"]?.string == "text/plain" })
        let decoded = String(decoding: Data(base64Encoded: text["payload_base64"]?.string ?? "") ?? Data(), as: UTF8.self)
        #expect(decoded.contains("\n.a line starting with a dot"))
        #expect(try await daemon.stop().status == 0)
    }

    @Test func wrongPasswordIsAnAuthenticationErrorWithTheServersReply() async throws {
        let daemon = try await Daemon.start()
        var params = SendParams(workspaceID: "ws", credential: credential(port: postfix.submissionPort, password: "wrong"))
        params.from = postfix.user
        params.to = ["to@example.test"]
        params.subject = "never sent"
        let response = try await send(params, daemon: daemon)
        #expect(!response.ok)
        #expect(response.error?.code == .authFailed)
        #expect(response.error?.smtp?.code == 535)
        #expect(response.error?.retryable == false)
        let partial = try response.result(as: SendResult.self)
        #expect(partial?.outcome == .notSent)
        #expect(partial?.phase == "auth")
        _ = try await daemon.stop()
    }

    @Test func unverifiableCertificateIsRefusedUnlessAcceptedExplicitly() async throws {
        let daemon = try await Daemon.start()
        var refused = SendParams(workspaceID: "ws", credential: credential(port: postfix.badCertPort, trustCA: false))
        refused.from = postfix.user
        refused.to = ["to@example.test"]
        refused.subject = "bad cert"
        let response = try await send(refused, daemon: daemon)
        #expect(response.error?.code == .certificateInvalid, "\(String(decoding: response.json, as: UTF8.self))")

        var accepted = refused
        accepted.credential?.tls = .init(acceptUnverified: true)
        accepted.subject = "accepted \(UUID().uuidString.prefix(8))"
        let ok = try await send(accepted, daemon: daemon)
        #expect(ok.ok, "\(String(decoding: ok.json, as: UTF8.self))")
        _ = try await daemon.stop()
    }

    @Test func verifyChecksACredentialWithoutSendingMail() async throws {
        let daemon = try await Daemon.start()
        let (good, bad) = try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
            let good = try await sidecar.callRaw(
                "verify", params: VerifyParams(workspaceID: "ws", credential: credential(port: postfix.submissionPort)))
            let bad = try await sidecar.callRaw(
                "verify",
                params: VerifyParams(workspaceID: "ws", credential: credential(port: postfix.submissionPort, password: "nope")))
            return (good, bad)
        }
        let recorder = SchemaRecorder()
        recorder.record(op: "verify", [good.json, bad.json])
        try await recorder.validate()
        let result = try #require(try good.result(as: VerifyResult.self))
        #expect(result.ok && result.security == "starttls")
        #expect(result.authMechanisms.contains("PLAIN"))
        #expect(bad.error?.code == .authFailed)
        _ = try await daemon.stop()
    }

    /// Every refusal happens before the sidecar connects: Postfix logs no new connection.
    @Test func refusalsThroughTheSocketNeverReachTheServer() async throws {
        let daemon = try await Daemon.start()
        func base() -> SendParams {
            var params = SendParams(workspaceID: "ws", credential: credential(port: postfix.submissionPort))
            params.from = postfix.user
            params.to = ["to@example.test"]
            params.subject = "refused"
            params.context = .init(triggerEmail: "Customer <customer@example.org>")
            return params
        }
        var port25 = base()
        port25.credential?.port = 25
        var loop = base()
        loop.bcc = ["CUSTOMER@example.org"]
        var injection = base()
        injection.subject = "hello\r\nBcc: victim@example.org"
        var reserved = base()
        reserved.headers = HeaderList([.init(name: "dkim-signature", value: "x")])
        var badAddress = base()
        badAddress.to = ["not an address"]
        var badBase64 = base()
        badBase64.attachments = [AttachmentParams(filename: "a.bin", contentBase64: "***")]
        let cases: [(SendParams, ErrorCode)] = [
            (port25, .port25Blocked), (loop, .mailLoop), (injection, .headerForbiddenCharacters),
            (reserved, .headerReserved), (badAddress, .invalidAddress), (badBase64, .attachmentInvalidBase64),
        ]
        let connectionsBefore = postfix.maillog.components(separatedBy: "connect from").count
        for (params, code) in cases {
            let response = try await send(params, daemon: daemon)
            #expect(response.error?.code == code, "\(String(decoding: response.json, as: UTF8.self))")
            #expect(try response.result(as: SendResult.self)?.outcome == .notSent)
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(postfix.maillog.components(separatedBy: "connect from").count == connectionsBefore)
        _ = try await daemon.stop()
    }

    @Test func onErrorContinueTurnsAFailureIntoAResultCarryingTheError() async throws {
        let daemon = try await Daemon.start()
        var params = SendParams(workspaceID: "ws", credential: credential(port: postfix.submissionPort, password: "bad"))
        params.from = postfix.user
        params.to = ["to@example.test"]
        params.onError = .continue
        let response = try await send(params, daemon: daemon)
        #expect(response.ok)
        let result = try #require(try response.result(as: SendResult.self))
        #expect(result.outcome == .notSent)
        #expect(result.error?.code == .authFailed)
        _ = try await daemon.stop()
    }
}
