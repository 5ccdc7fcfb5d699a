import ArgumentParser

/// Options shared by the client subcommands.
struct ClientOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "The sidecar's Unix socket.")
    var socket: String = "/run/smtp-sidecar/smtp-sidecar.sock"
}
