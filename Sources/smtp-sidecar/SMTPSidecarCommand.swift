import ArgumentParser

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
            CredentialsCommand.self,
        ]
    )
}
