import Logging
import NIOCore
import NIOPosix
import SidecarCore
import SidecarEgress
import SidecarMessage
import SidecarPool
import SidecarProtocol
import SidecarSMTP
import SidecarTestSupport
import Synchronization
import Testing

@testable import SidecarMail

/// `verify` and `send` reach an SMTP server only through the SSRF guard: a refused host
/// gets no connection attempt, whichever operation asks.
@Suite struct EgressGuardTests {
    /// A transport that records every call and connects nowhere.
    final class RecordingTransport: MailTransport {
        let calls = Mutex<[String]>([])

        func send(
            _ message: ComposedMessage, options: SMTPSendOptions, destination: SMTPDestination, route: TransportRoute,
            deadline: NIODeadline?, beforeTransaction: BeforeTransaction?, logger: Logger
        ) async -> TransportOutcome {
            calls.withLock { $0.append("send \(destination.configuration.host)") }
            return TransportOutcome(
                result: .notSent(SMTPSendFailure(
                    error: SidecarError(code: .connectionFailed, message: "test"), phase: .connect)),
                connect: .zero, transaction: .zero)
        }

        func verify(destination: SMTPDestination, deadline: NIODeadline?, logger: Logger) async throws(SMTPFailure)
            -> SMTPCapabilities
        {
            calls.withLock { $0.append("verify \(destination.configuration.host)") }
            throw SMTPFailure(error: SidecarError(code: .connectionFailed, message: "test"), phase: .connect)
        }
    }

    static let forbiddenHosts = ["localhost", "127.0.0.2", "10.1.2.3", "169.254.169.254", "::1", "[::1]", "100.64.0.1"]
    static let logger = Logger(label: "test")

    static func credential(_ host: String, port: Int = 587) -> CredentialParams {
        CredentialParams(host: host, port: port, username: "user@example.com", password: Secret("hunter2"))
    }

    @Test(arguments: forbiddenHosts)
    func verifyOfANonPublicHostIsRefusedWithoutAConnectionAttempt(host: String) async throws {
        let transport = RecordingTransport()
        let operations = MailOperations(settings: MailSettings(), transport: transport)
        let outcome = await operations.verify(
            VerifyParams(workspaceID: "ws", credential: Self.credential(host)), logger: Self.logger)
        guard case .failure(let error, _) = outcome else {
            Issue.record("verify of \(host) succeeded")
            return
        }
        #expect(error.code == .destinationForbidden, "\(host): \(error)")
        #expect(error.field == "params.credential.host")
        #expect(transport.calls.withLock { $0 }.isEmpty)
    }

    @Test(arguments: forbiddenHosts)
    func sendOfANonPublicHostIsRefusedTheSameWay(host: String) async throws {
        let transport = RecordingTransport()
        let operations = MailOperations(settings: MailSettings(), transport: transport)
        var params = SendParams(workspaceID: "ws", credential: Self.credential(host))
        params.from = "user@example.com"
        params.to = ["someone@example.com"]
        params.text = "hello"
        let outcome = await operations.send(params, logger: Self.logger)
        guard case .failure(let error, _) = outcome else {
            Issue.record("send to \(host) succeeded")
            return
        }
        #expect(error.code == .destinationForbidden, "\(host): \(error)")
        #expect(transport.calls.withLock { $0 }.isEmpty)
    }

    @Test func verifyOnPort25IsRefusedWithoutAConnectionAttempt() async throws {
        let transport = RecordingTransport()
        // Even where the operator allows the host, port 25 stays closed.
        let operations = MailOperations(
            settings: MailSettings(), transport: transport,
            policy: MailPolicy(destinations: DestinationResolver(
                policy: EgressPolicy(allowedCIDRs: [CIDR("127.0.0.1/32")!]))))
        let outcome = await operations.verify(
            VerifyParams(workspaceID: "ws", credential: Self.credential("127.0.0.1", port: 25)), logger: Self.logger)
        guard case .failure(let error, _) = outcome else {
            Issue.record("verify on port 25 succeeded")
            return
        }
        #expect(error.code == .port25Blocked)
        #expect(error.field == "params.credential.port")
        #expect(transport.calls.withLock { $0 }.isEmpty)
    }

    @Test func verifyOfAnAllowListedHostConnectsToTheVettedAddress() async throws {
        let transport = RecordingTransport()
        let operations = MailOperations(
            settings: MailSettings(), transport: transport,
            policy: MailPolicy(destinations: DestinationResolver(
                policy: EgressPolicy(allowedCIDRs: [CIDR("127.0.0.0/8")!]))))
        _ = await operations.verify(
            VerifyParams(workspaceID: "ws", credential: Self.credential("127.0.0.2", port: 2525)), logger: Self.logger)
        #expect(transport.calls.withLock { $0 } == ["verify 127.0.0.2"])
    }

    /// With the real transports and loopback listeners: nothing is accepted.
    @Test(arguments: [false, true])
    func aLoopbackListenerSeesNoConnectionFromVerify(pooled: Bool) async throws {
        let v4 = try await TarpitListener.start(host: "127.0.0.1")
        let second = try await TarpitListener.start(host: "127.0.0.2", port: v4.port)
        let v6 = try await TarpitListener.start(host: "::1", port: v4.port)
        let group = MultiThreadedEventLoopGroup.singleton
        let transport: any MailTransport =
            pooled
            ? PooledTransport(configuration: .init(), eventLoopGroup: group, logger: Self.logger)
            : DirectTransport(eventLoopGroup: group)
        let operations = MailOperations(settings: MailSettings(), transport: transport)
        for host in ["localhost", "127.0.0.1", "127.0.0.2", "::1", "[::1]"] {
            let outcome = await operations.verify(
                VerifyParams(workspaceID: "ws", credential: Self.credential(host, port: v4.port), timeoutMs: 2000),
                logger: Self.logger)
            guard case .failure(let error, _) = outcome else {
                Issue.record("verify of \(host) succeeded")
                continue
            }
            #expect(error.code == .destinationForbidden, "\(host): \(error)")
        }
        #expect(v4.accepted + second.accepted + v6.accepted == 0)
        await v4.stop()
        await second.stop()
        await v6.stop()
    }
}
