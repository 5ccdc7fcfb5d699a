import Foundation
import Logging
import NIOCore
import NIOPosix
import SidecarCore
import SidecarMessage
import SidecarTestSupport
import Testing

@testable import SidecarSMTP

/// Against a real Postfix on loopback (scripts/postfix-harness.sh), started once for the
/// suite. Needs root (CI has it); skipped otherwise.
@Suite(.serialized, .postfix, .enabled(if: PostfixInstance.isAvailable, "needs root and scripts/postfix-harness.sh"))
struct PostfixIntegrationTests {
    var postfix: PostfixInstance { PostfixInstance.current! }
    let group = MultiThreadedEventLoopGroup.singleton

    func configuration(
        port: Int,
        security: SMTPSecurityMode? = nil,
        password: String? = nil,
        mechanism: SMTPAuthMechanism? = nil,
        trustCA: Bool = true,
        acceptUnverified: Bool = false,
        serverName: String? = "localhost"
    ) -> SMTPConfiguration {
        SMTPConfiguration(
            host: "127.0.0.1",
            port: port,
            security: security,
            tls: SMTPTLSSettings(
                acceptUnverifiedCertificates: acceptUnverified,
                additionalCAPEM: trustCA ? postfix.caPEM : nil,
                serverName: serverName
            ),
            credentials: .password(postfix.user, Secret(password ?? postfix.password), mechanism: mechanism),
            clientName: "client.example.test",
            timeouts: SMTPTimeouts(connect: .seconds(5), tlsHandshake: .seconds(5), greeting: .seconds(10), command: .seconds(10))
        )
    }

    @Test func sendsOverSTARTTLSWithAuthPlainAndDeliversExactly() async throws {
        try postfix.clearMaildir()
        let capture = LogCapture()
        let message = try TestMessages.compose(
            subject: "STARTTLS PLAIN",
            to: ["alice@example.test"],
            cc: ["carol@example.test"],
            bcc: ["hidden@example.test"],
            attachments: [TestMessages.binaryAttachment]
        )
        let connection = try await SMTPConnection.connect(
            configuration: configuration(port: postfix.submissionPort, security: .startTLS),
            eventLoopGroup: group,
            logger: capture.logger()
        )
        #expect(connection.isSecure)
        #expect(connection.capabilities.startTLS == false, "STARTTLS is not offered again over TLS")
        #expect(connection.capabilities.offers(.plain))
        #expect(connection.capabilities.pipelining)
        #expect(connection.capabilities.maximumMessageSize == 10_240_000)
        #expect(connection.capabilities.chunking)
        #expect(capture.text.contains("AUTH PLAIN <redacted>"))
        // TCP_NODELAY on the SMTP socket.
        let noDelay = try await connection.channel.getOption(.tcpOption(.tcp_nodelay)).get()
        #expect(noDelay != 0)

        let result = await connection.send(message)
        guard case .sent(let delivery) = result else {
            Issue.record("not sent: \(result)")
            return
        }
        #expect(delivery.reply.code == 250)
        #expect(delivery.reply.text.contains("queued as"))
        #expect(delivery.recipients.map(\.address) == ["alice@example.test", "carol@example.test", "hidden@example.test"])
        #expect(delivery.recipients.allSatisfy { $0.accepted })
        #expect(connection.messagesSent == 1)
        #expect(connection.isUsable)
        await connection.quit()
        #expect(!connection.isUsable)

        let delivered = try await postfix.waitForMail(count: 3)
        #expect(delivered.count == 3)
        for text in delivered {
            let headers = TestMessages.headers(of: text)
            #expect(headers.contains("Subject: STARTTLS PLAIN"))
            #expect(headers.contains { $0.hasPrefix("To: ") && $0.contains("alice@example.test") })
            #expect(headers.contains { $0.hasPrefix("Cc: ") && $0.contains("carol@example.test") })
            #expect(!headers.contains { $0.lowercased().hasPrefix("bcc:") })
            #expect(!text.contains("hidden@example.test") || headers.contains { $0.hasPrefix("Delivered-To: hidden") })
            #expect(headers.contains { $0.hasPrefix("Received: ") && $0.contains("ESMTPSA") })
            #expect(headers.contains { $0 == "Message-ID: \(message.messageID)" })
            #expect(TestMessages.attachment(named: "data.bin", in: text) == TestMessages.attachmentBytes)
            let body = text.replacingOccurrences(of: "\r\n", with: "\n")
            #expect(body.contains("\n.leading dot line\n"))
            #expect(body.contains("\n..two dots\n"))
            #expect(body.contains("\n.\nlast line"))
        }
    }

    @Test func sendsOverSTARTTLSWithAuthLoginWithoutPipelining() async throws {
        try postfix.clearMaildir()
        let capture = LogCapture()
        let connection = try await SMTPConnection.connect(
            configuration: configuration(port: postfix.noPipeliningPort, security: .startTLS, mechanism: .login),
            eventLoopGroup: group,
            logger: capture.logger()
        )
        #expect(!connection.capabilities.pipelining)
        let result = await connection.send(try TestMessages.compose(subject: "LOGIN", to: ["a@example.test", "b@example.test"]))
        guard case .sent(let delivery) = result else {
            Issue.record("not sent: \(result)")
            return
        }
        #expect(delivery.acceptedRecipients.count == 2)
        await connection.quit()
        #expect(capture.text.contains("AUTH LOGIN"))
        let delivered = try await postfix.waitForMail(count: 2)
        #expect(delivered.allSatisfy { TestMessages.headers(of: $0).contains("Subject: LOGIN") })
    }

    @Test func sendsOverImplicitTLSVerifyingTheAddressWithoutOverride() async throws {
        try postfix.clearMaildir()
        // No security mode: chosen from the port would be STARTTLS (not 465), so give it;
        // no server name: the certificate's IP SAN 127.0.0.1 is checked.
        let configuration = configuration(port: postfix.smtpsPort, security: .implicitTLS, serverName: nil)
        let result = await Self.sendOnce(
            try TestMessages.compose(subject: "implicit TLS", attachments: [TestMessages.binaryAttachment]),
            configuration: configuration,
            eventLoopGroup: group,
            logger: Logger(label: "test")
        )
        guard case .sent = result else {
            Issue.record("not sent: \(result)")
            return
        }
        let delivered = try await postfix.waitForMail(count: 1)
        #expect(TestMessages.headers(of: delivered[0]).contains("Subject: implicit TLS"))
        #expect(TestMessages.attachment(named: "data.bin", in: delivered[0]) == TestMessages.attachmentBytes)
    }

    @Test func reusesOneConnectionForSeveralMessages() async throws {
        try postfix.clearMaildir()
        let connection = try await SMTPConnection.connect(
            configuration: configuration(port: postfix.submissionPort),
            eventLoopGroup: group,
            logger: Logger(label: "test")
        )
        for index in 1...3 {
            let result = await connection.send(try TestMessages.compose(subject: "reuse \(index)"))
            guard case .sent = result else {
                Issue.record("message \(index) not sent: \(result)")
                return
            }
            try await connection.reset()
        }
        #expect(connection.messagesSent == 3)
        #expect(connection.isUsable)
        await connection.quit()
        #expect(!connection.isUsable)
        await connection.quit()  // harmless twice
        let result = await connection.send(try TestMessages.compose())
        #expect(result.error?.code == .connectionFailed)
        _ = try await postfix.waitForMail(count: 3)
    }

    @Test func wrongPasswordIsAuthFailedWith535() async throws {
        let capture = LogCapture()
        let wrong = "definitely-wrong-password-42"
        do {
            _ = try await SMTPConnection.open(
                configuration: configuration(port: postfix.submissionPort, password: wrong),
                eventLoopGroup: group,
                logger: capture.logger()
            )
            Issue.record("connected with a wrong password")
        } catch {
            #expect(error.phase == .auth)
            #expect(error.error.code == .authFailed)
            #expect(error.error.smtp?.code == 535)
            #expect(error.error.smtp?.enhancedCode == "5.7.8")
            #expect(!error.error.retryable)
            #expect(error.error.message.contains("App Password"))
            #expect(!"\(error)".contains(wrong))
        }
        #expect(!capture.text.contains(wrong))
    }

    @Test func badCertificateIsRefusedUnlessUnverifiedIsAccepted() async throws {
        do {
            _ = try await SMTPClient.verify(
                configuration: configuration(port: postfix.badCertPort),
                eventLoopGroup: group,
                logger: Logger(label: "test")
            )
            Issue.record("a self-signed certificate for another name was accepted")
        } catch {
            #expect(error.error.code == .certificateInvalid)
            #expect(error.phase == .tls)
        }
        let capabilities = try await SMTPClient.verify(
            configuration: configuration(port: postfix.badCertPort, trustCA: false, acceptUnverified: true),
            eventLoopGroup: group,
            logger: Logger(label: "test")
        )
        #expect(capabilities.offers(.login))
    }

    @Test func hostNameMismatchIsCertificateInvalid() async throws {
        // Trust the bad port's self-signed certificate itself, so only the name is wrong:
        // it is for wrong.invalid (and has no IP address).
        let badPEM = try String(contentsOfFile: "\(postfix.directory)/tls/bad.pem", encoding: .utf8)
        var configuration = configuration(port: postfix.badCertPort, trustCA: false, serverName: "localhost")
        configuration.tls.additionalCAPEM = badPEM
        do {
            _ = try await SMTPClient.verify(configuration: configuration, eventLoopGroup: group, logger: Logger(label: "test"))
            Issue.record("a certificate for another host name was accepted")
        } catch {
            #expect(error.error.code == .certificateInvalid)
            #expect(error.error.message.contains("not issued for 127.0.0.1"))
            #expect(error.phase == .tls)
        }
        configuration.tls.serverName = "wrong.invalid"
        let capabilities = try await SMTPClient.verify(configuration: configuration, eventLoopGroup: group, logger: Logger(label: "test"))
        #expect(capabilities.offers(.plain))
    }

    @Test func plaintextConfigurationNeverSendsCredentials() async throws {
        let maillogBefore = postfix.maillog.count
        for allowPlaintextAuth in [false, true] {
            let capture = LogCapture()
            var configuration = configuration(port: postfix.submissionPort, security: .plaintext)
            configuration.allowsPlaintextAuthentication = allowPlaintextAuth
            do {
                _ = try await SMTPConnection.open(configuration: configuration, eventLoopGroup: group, logger: capture.logger())
                Issue.record("connected in plaintext with credentials")
            } catch {
                #expect(error.error.code == .authFailed)
                #expect(error.phase == .auth)
            }
            #expect(!capture.text.contains("smtp_command=AUTH"))
            #expect(!capture.text.contains(postfix.password))
        }
        #expect(!postfix.maillog.dropFirst(maillogBefore).contains("sasl"), "no AUTH reached the server")
    }

    @Test func plaintextPortWithoutCredentialsSends() async throws {
        try postfix.clearMaildir()
        var configuration = configuration(port: postfix.plainPort, security: .plaintext)
        configuration.credentials = nil
        let result = await Self.sendOnce(
            try TestMessages.compose(subject: "plain relay"),
            configuration: configuration,
            eventLoopGroup: group,
            logger: Logger(label: "test")
        )
        guard case .sent = result else {
            Issue.record("not sent: \(result)")
            return
        }
        _ = try await postfix.waitForMail(count: 1)
    }

    @Test func connectionRefusedIsConnectionFailed() async throws {
        // A port nobody listens on: bind one, close it.
        let server = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let port = server.localAddress!.port!
        try await server.close()
        let result = await Self.sendOnce(
            try TestMessages.compose(),
            configuration: configuration(port: port),
            eventLoopGroup: group,
            logger: Logger(label: "test")
        )
        #expect(result.error?.code == .connectionFailed)
        guard case .notSent(let failure) = result else {
            Issue.record("expected notSent, got \(result)")
            return
        }
        #expect(failure.phase == .connect)
        #expect(failure.error.retryable)
    }

    @Test func traceLogsOfRealSessionsHoldNoSecret() async throws {
        let capture = LogCapture()
        let logger = capture.logger(level: .trace)
        for mechanism in [SMTPAuthMechanism.plain, .login] {
            let result = await Self.sendOnce(
                try TestMessages.compose(subject: "redaction \(mechanism)"),
                configuration: configuration(port: postfix.submissionPort, mechanism: mechanism),
                eventLoopGroup: group,
                logger: logger
            )
            guard case .sent = result else {
                Issue.record("not sent: \(result)")
                return
            }
        }
        let wrong = "Wr0ng-but-secret-too"
        var errors: [String] = []
        for mechanism in [SMTPAuthMechanism.plain, .login] {
            do {
                _ = try await SMTPConnection.open(
                    configuration: configuration(port: postfix.submissionPort, password: wrong, mechanism: mechanism),
                    eventLoopGroup: group,
                    logger: logger
                )
            } catch {
                errors += [error.error.message, "\(error)", String(reflecting: error)]
            }
        }
        func forms(_ password: String) -> [String] {
            func b64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }
            return [password, b64(password), b64("\0\(postfix.user)\0\(password)")]
        }
        let log = capture.text
        #expect(log.contains("smtp_command=AUTH PLAIN <redacted>"))
        #expect(log.contains("smtp_command=AUTH LOGIN"))
        #expect(log.contains("smtp_command=<redacted>"))
        for secret in forms(postfix.password) + forms(wrong) {
            #expect(!log.contains(secret))
            #expect(!errors.joined().contains(secret))
        }
        #expect(errors.count == 6)
    }

    /// Connects, sends one message and QUITs; a failure to connect is a `notSent` result.
    static func sendOnce(
        _ message: ComposedMessage, options: SMTPSendOptions = SMTPSendOptions(), configuration: SMTPConfiguration,
        eventLoopGroup: any EventLoopGroup, logger: Logger, deadline: NIODeadline? = nil
    ) async -> SMTPSendResult {
        let connection: SMTPConnection
        do {
            connection = try await SMTPConnection.open(
                configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger, deadline: deadline)
        } catch {
            return .notSent(SMTPSendFailure(error: error.error, phase: error.phase))
        }
        let result = await connection.send(message, options: options, deadline: deadline)
        await connection.quit()
        return result
    }
}
