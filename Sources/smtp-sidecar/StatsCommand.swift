import ArgumentParser
import FoundationEssentials
import SidecarClient
import SidecarCore
import SidecarProtocol

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Print the daemon's counters as JSON.")

    @OptionGroup var options: ClientOptions

    func run() async throws {
        do {
            let stats = try await SidecarConnection.withConnection(socketPath: options.socket) { sidecar in
                try await sidecar.stats()
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(stats), as: UTF8.self))
        } catch let error as SidecarError {
            throw CLIFailure(error.description)
        } catch {
            throw CLIFailure("cannot reach the sidecar at \(options.socket): \(error)")
        }
    }
}
