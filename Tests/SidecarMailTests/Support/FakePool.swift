import Logging
import NIOCore
import NIOPosix
import SidecarCore
import SidecarMessage
import SidecarPool
import SidecarProtocol
import SidecarSMTP

@testable import SidecarMail

/// A ``PooledTransport`` whose real ``ConnectionPool`` makes ``FakeSMTPSession``s, with a
/// message and a vetted destination to send it to.
struct FakePool {
    let factory: FakeSMTPSessionFactory
    let transport: PooledTransport
    let message: ComposedMessage
    let destination: SMTPDestination
    let route = TransportRoute(workspaceID: "ws-orchestration", credentialID: "cred-1")

    /// Runs `body` with a running pool, then shuts it down and waits for it.
    static func with<Result: Sendable>(
        _ script: [FakeSMTPSessionFactory.Answer] = [], configure: (inout PoolConfiguration) -> Void = { _ in },
        _ body: (FakePool) async throws -> Result
    ) async throws -> Result {
        var configuration = PoolConfiguration()
        // Bounds against a hang only: these tests check decisions, not timing, and a full
        // parallel run on two cores can hold a task off its thread for seconds.
        configuration.maxWait = .seconds(120)
        configure(&configuration)
        let factory = FakeSMTPSessionFactory(script)
        let transport = PooledTransport(
            pool: ConnectionPool(configuration: configuration, factory: factory), configuration: configuration,
            factory: SMTPConnectionFactory(
                eventLoopGroup: MultiThreadedEventLoopGroup.singleton, tlsContextCache: .shared, logger: SendFixtures.logger))
        let operations = SendFixtures.operations(FakeMailTransport())
        let params = SendFixtures.params()
        let configurationForSMTP = try operations.credentials.configuration(for: params.credential!)
        let fixture = FakePool(
            factory: factory, transport: transport,
            message: try MessageComposer(limits: MailSettings().messageLimits).compose(params.draft),
            destination: try await operations.destination(for: configurationForSMTP))
        let running = Task { await transport.run() }
        do {
            let result = try await body(fixture)
            transport.shutdown()
            await running.value
            return result
        } catch {
            transport.shutdown()
            await running.value
            throw error
        }
    }

    func send(beforeTransaction: BeforeTransaction? = nil) async -> TransportOutcome {
        await transport.send(
            message, options: SMTPSendOptions(), destination: destination, route: route, deadline: .now() + .seconds(120),
            beforeTransaction: beforeTransaction, logger: SendFixtures.logger)
    }
}
