import ArgumentParser
import NIOCore
import NIOPosix
import SidecarServer

@main
struct SMTPSidecarCommand: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "smtp-sidecar",
        abstract: "Send email through users' own SMTP servers on behalf of local workflow workers.",
        discussion: """
            `serve` runs the daemon (under systemd socket activation, or binding its own socket).
            The other subcommands are clients of a running daemon.
            """,
        version: version,
        subcommands: [
            ServeCommand.self, SendCommand.self, VerifyCommand.self, PingCommand.self, StatsCommand.self,
            MetricsCommand.self,
            CredentialsCommand.self, StateCommand.self,
        ]
    )

    /// Runs Swift concurrency on NIO's event loops, then the command. Without this every
    /// await on network I/O hops between the event-loop threads and the concurrency pool,
    /// and those thread wake-ups dominated the daemon's CPU time on the warm send path
    /// (perf: context switches, futex and eventfd wake-ups). It must happen before any task
    /// is scheduled, so it is the first thing `main` does after parsing the command line,
    /// on the main thread. `serve` reads its configuration first for `event_loop_threads`.
    static func main() async {
        let command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        // `serve` reads its configuration once, here: its thread count must be known before
        // the event loops start, and a bad file is reported before anything else happens.
        var serveConfiguration: DaemonConfiguration?
        if let serve = command as? ServeCommand {
            do {
                let configuration = try serve.configurationOrFailure()
                if configuration.eventLoopThreads > 0 {
                    NIOSingletons.groupLoopCountSuggestion = configuration.eventLoopThreads
                }
                serveConfiguration = configuration
            } catch {
                exit(withError: error)
            }
        }
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        do {
            var command = command
            if let serve = command as? ServeCommand, let serveConfiguration {
                try await serve.run(configuration: serveConfiguration)
            } else if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
