import ArgumentParser
import FoundationEssentials
import SidecarClient
import SidecarCore
import SidecarProtocol

extension CredentialsCommand {
    /// `credentials status`: asks the running daemon (unlike the other subcommands, which edit
    /// the store): the last successes and errors are in its memory, its pools are its own.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask the running daemon how each stored credential is doing (never a secret).",
            discussion: """
                For each stored credential: its last successful and failed send or verify on this daemon since it \
                started, what is used of its rate and daily limits and when they reset, its warm connections, and an \
                OAuth token's expiry. In a fleet, each host knows its own sends: ask each.
                """)

        @OptionGroup var options: ClientOptions
        @Option(help: "Only the credential with this id.") var id: String?
        @Option(help: "Only this workspace.") var workspace: String?
        @Flag(help: "Print the daemon's answer as JSON.") var json = false

        func run() async throws {
            let result: CredentialStatusResult
            do {
                result = try await SidecarConnection.withConnection(socketPath: options.socket) { sidecar in
                    try await sidecar.credentialStatus(credentialID: id, workspaceID: workspace)
                }
            } catch let error as SidecarError {
                throw CLIFailure(error.description)
            } catch {
                throw CLIFailure("cannot reach the sidecar at \(options.socket): \(error)")
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(result), as: UTF8.self))
            } else {
                for line in CredentialStatusTable.lines(result) { print(line) }
            }
        }
    }
}
