import ServiceLifecycle
import SidecarMail

/// Runs the connection pools as a service: on graceful shutdown they stop lending, let
/// sends in flight finish, and QUIT their idle connections.
struct PoolService: Service {
    let transport: PooledTransport

    func run() async throws {
        await withGracefulShutdownHandler {
            await transport.run()
        } onGracefulShutdown: {
            transport.shutdown()
        }
    }
}
