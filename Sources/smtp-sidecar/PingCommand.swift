import ArgumentParser
import FoundationEssentials
import SidecarClient
import SidecarCore
import SidecarProtocol

struct PingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ping", abstract: "Check that the daemon answers, and how fast.")

    @OptionGroup var options: ClientOptions

    @Option(name: .shortAndLong, help: "How many pings to send, all at once on one connection.")
    var count: Int = 1

    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let micros = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
        let fraction = String(micros % 1000)
        return "\(micros / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    func run() async throws {
        let count = max(1, self.count)
        let clock = ContinuousClock()
        do {
            try await SidecarConnection.withConnection(socketPath: options.socket) { sidecar in
                let hello = try await sidecar.hello(client: "smtp-sidecar-cli/\(SMTPSidecarCommand.version)")
                let started = clock.now
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<count {
                        group.addTask {
                            let pong = try await sidecar.ping(data: "\(index)")
                            guard pong.data == "\(index)" else { throw SidecarClientError.malformedResponse }
                        }
                    }
                    try await group.waitForAll()
                }
                let elapsed = clock.now - started
                print("\(hello.server) \(hello.serverVersion) (protocol \(hello.version)) on \(options.socket): "
                    + "\(count) pong\(count == 1 ? "" : "s") in \(Self.milliseconds(elapsed)) ms")
            }
        } catch let error as SidecarError {
            throw CLIFailure(error.description)
        } catch {
            throw CLIFailure("cannot reach the sidecar at \(options.socket): \(error)")
        }
    }
}
