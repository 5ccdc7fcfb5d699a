import ServiceLifecycle
import SidecarMail

/// Runs one of the mail engine's long-lived parts (the state purge, the connection pools)
/// as a service of the daemon's service group, stopping it on graceful shutdown the way
/// the part asks.
struct MailEngineService: Service {
    let task: MailEngineTask

    func run() async throws {
        let task = task
        switch task.shutdown {
        case .cancel:
            await cancelWhenGracefulShutdown {
                await task.run()
            }
        case .call(let shutdown):
            await withGracefulShutdownHandler {
                await task.run()
            } onGracefulShutdown: {
                shutdown()
            }
        }
    }
}
