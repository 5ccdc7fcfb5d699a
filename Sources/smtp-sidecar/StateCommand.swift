import ArgumentParser
import Logging
import SidecarCore
import SidecarMail

/// `smtp-sidecar state …`: the shared state database of `state_backend = postgres`, with the
/// daemon's configuration. The daemon migrates the schema itself at start; these run it by
/// hand (before a fleet's rolling upgrade, say) and check the connection.
struct StateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Migrate or check the shared state database (state_backend = postgres).",
        subcommands: [Migrate.self, Check.self])

    struct Options: ParsableArguments {
        @Option(name: .shortAndLong, help: "Configuration file (default \(ServeCommand.defaultConfigPath), if it exists).")
        var config: String?

        func administration() throws -> StateAdministration {
            let serve = try ServeCommand.parse(config.map { ["--config", $0] } ?? [])
            let configuration = try serve.configurationOrFailure().mail
            return StateAdministration(configuration: configuration, logger: Logger(label: "smtp-sidecar") { _ in SwiftLogNoOpLogHandler() })
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply the schema migrations this build knows.")
        @OptionGroup var options: Options

        func run() async throws {
            do {
                let (from, to) = try await options.administration().migrate()
                print(from == to ? "schema version \(to): up to date" : "schema version \(from) → \(to): migrated")
            } catch let error as SidecarError {
                throw CLIFailure(error.message)
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Connect to the shared database and compare its schema version with this build's.")
        @OptionGroup var options: Options

        func run() async throws {
            let report: StateAdministration.Report
            do {
                report = try await options.administration().check()
            } catch let error as SidecarError {
                throw CLIFailure(error.message)
            }
            print("backend: \(report.backend)")
            print("database: \(report.location)")
            print("schema version: \(report.schemaVersion) (this build: \(report.knownSchemaVersion))")
            print("round trip: \(report.latency.wholeMilliseconds) ms")
            if report.schemaVersion < report.knownSchemaVersion {
                throw CLIFailure("The schema is older than this build's: run smtp-sidecar state migrate (the daemon does at start).")
            }
            if report.schemaVersion > report.knownSchemaVersion {
                throw CLIFailure("The schema is newer than this build's: upgrade this host.")
            }
        }
    }
}
