import ArgumentParser
import SidecarClient
import SidecarCore
import SidecarProtocol

struct MetricsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics", abstract: "Print the daemon's metrics in the Prometheus text format.")

    @OptionGroup var options: ClientOptions

    func run() async throws {
        do {
            let metrics = try await SidecarConnection.withConnection(socketPath: options.socket) { sidecar in
                try await sidecar.metrics()
            }
            print(metrics.text, terminator: "")
        } catch let error as SidecarError {
            throw CLIFailure(error.description)
        } catch {
            throw CLIFailure("cannot reach the sidecar at \(options.socket): \(error)")
        }
    }
}
