import Logging
import NIOCore
import NIOPosix
import SidecarCore
import SidecarEgress
import SidecarPool
import SidecarProtocol
import SidecarTestSupport
import Testing

@testable import SidecarMail

/// The RSET check of a connection that sat idle, against a server that never answers it.
@Suite struct PoolHealthCheckTests {
    static let logger = Logger(label: "test")

    static func params(port: Int, subject: String) -> SendParams {
        var params = SendParams(
            workspaceID: "ws-check",
            credential: CredentialParams(
                host: "127.0.0.1", port: port, security: CredentialParams.Security.none,
                auth: CredentialParams.AuthMechanism.none))
        params.from = "sender@example.test"
        params.to = AddressList(["rcpt@example.test"])
        params.subject = subject
        params.text = "check"
        params.dedupWindowSeconds = 0
        params.timeoutMs = 20_000
        return params
    }

    /// The check costs its own bound, not the send: the stalled connection is discarded and
    /// the message goes on a new one, within the request's deadline. (The pool's discard
    /// counter is not asserted: a key's counters start anew when its last connection closes.)
    @Test func aStalledHealthCheckSendsOnAFreshConnection() async throws {
        var script = ScriptedSMTPServer.Script()
        script.stallOnRSET = true
        let server = try await ScriptedSMTPServer.start(script)
        var configuration = PoolConfiguration()
        configuration.checkAfterIdle = .milliseconds(50)
        // The pool's own wait limit only guards against a hang (a loaded machine can take
        // seconds to set up a loopback connection); the check's bound is what is tested.
        configuration.maxWait = .seconds(60)
        let transport = PooledTransport(
            configuration: configuration, eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            healthCheckTimeout: .milliseconds(300), logger: Self.logger)
        let running = Task { await transport.run() }
        let operations = MailOperations(
            settings: MailSettings(), transport: transport,
            policy: MailPolicy(destinations: DestinationResolver(policy: EgressPolicy(allowedCIDRs: [CIDR("127.0.0.0/8")!]))))

        var results: [SendResult] = []
        for subject in ["first", "after idle"] {
            if !results.isEmpty { try await Task.sleep(for: .milliseconds(150)) }
            let outcome = await operations.send(Self.params(port: server.port, subject: subject), logger: Self.logger)
            guard case .success(let encodable) = outcome, let result = encodable as? SendResult else {
                Issue.record("\(subject): \(outcome)")
                break
            }
            results.append(result)
        }
        #expect(results.map(\.outcome) == [.sent, .sent])
        #expect(server.deliveries.count == 2)
        #expect(server.connections == 2, "the checked connection was discarded and a new one opened")
        #expect(server.commands.contains { $0.connection == 1 && $0.line.uppercased().hasPrefix("RSET") })
        #expect(server.deliveries.map(\.connection) == [1, 2], "the message after the check went on the new connection")
        transport.shutdown()
        await running.value
        await server.stop()
    }

    /// The check's deadline: its bound, or half the request's time left when that is less.
    @Test func theCheckLeavesHalfTheRequestsTimeForAFreshConnection() {
        let now = NIODeadline.uptimeNanoseconds(1_000_000_000)
        #expect(PooledTransport.checkDeadline(request: nil, bound: .seconds(5), now: now) == now + .seconds(5))
        #expect(PooledTransport.checkDeadline(request: now + .seconds(60), bound: .seconds(5), now: now) == now + .seconds(5))
        #expect(PooledTransport.checkDeadline(request: now + .seconds(4), bound: .seconds(5), now: now) == now + .seconds(2))
        #expect(PooledTransport.checkDeadline(request: now - .seconds(1), bound: .seconds(5), now: now) == now)
    }
}
