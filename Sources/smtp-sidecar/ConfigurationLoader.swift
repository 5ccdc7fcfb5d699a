#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SidecarCore
import SidecarMail
import SidecarServer

/// Builds a ``DaemonConfiguration`` from a file's text, the environment and overrides: the
/// one table of configuration keys, the server's and the executable's here, the mail
/// engine's from ``MailConfiguration/apply(key:value:source:)``.
///
/// The file format is one `key = value` per line; `#` starts a comment line; values may be
/// quoted with double quotes; lists are comma-separated. Unknown keys and bad values are
/// errors naming the line, so a typo never silently falls back to a default.
struct ConfigurationLoader: Sendable {
    static let environmentPrefix = "SMTP_SIDECAR_"

    /// - Parameters:
    ///   - fileText: the configuration file's contents, if any.
    ///   - fileName: for error messages.
    ///   - environment: the process environment; only `SMTP_SIDECAR_*` variables are read.
    ///   - overrides: key/value pairs from the command line, applied last.
    func load(
        fileText: String?, fileName: String = "config", environment: [String: String], overrides: [String: String] = [:],
        isRoot: Bool = getuid() == 0
    ) throws(SidecarError) -> DaemonConfiguration {
        var configuration = DaemonConfiguration()
        configuration.mail.stateDirectory = Self.defaultStateDirectory(environment: environment, isRoot: isRoot)
        if let fileText {
            for (lineNumber, line) in fileText.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                guard let (key, value) = try Self.parseLine(String(line), location: "\(fileName):\(lineNumber + 1)") else {
                    continue
                }
                try apply(key: key, value: value, to: &configuration, source: "\(fileName):\(lineNumber + 1)")
            }
        }
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix(Self.environmentPrefix) {
            let key = name.dropFirst(Self.environmentPrefix.count).lowercased()
            try apply(key: key, value: value, to: &configuration, source: "environment variable \(name)")
        }
        for (key, value) in overrides.sorted(by: { $0.key < $1.key }) {
            try apply(key: key, value: value, to: &configuration, source: "command line")
        }
        try validate(configuration)
        return configuration
    }

    static func parseLine(_ rawLine: String, location: String) throws(SidecarError) -> (String, String)? {
        let line = rawLine.trimmingUnicodeWhitespace()
        if line.isEmpty || line.hasPrefix("#") { return nil }
        guard let equals = line.firstIndex(of: "=") else {
            throw ConfigurationValue.invalid("\(location): expected \"key = value\"")
        }
        let key = String(line[..<equals]).trimmingUnicodeWhitespace()
        var value = String(line[line.index(after: equals)...]).trimmingUnicodeWhitespace()
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
            value = String(value.dropFirst().dropLast())
        }
        return (key, value)
    }

    func apply(key: String, value: String, to configuration: inout DaemonConfiguration, source: String) throws(SidecarError) {
        switch key {
        case "socket_path":
            guard value.hasPrefix("/") else { throw ConfigurationValue.invalid("\(source): socket_path must be absolute") }
            configuration.server.socketPath = value
        case "socket_mode":
            guard let mode = UInt32(value, radix: 8), mode <= 0o777 else {
                throw ConfigurationValue.invalid("\(source): socket_mode must be an octal mode like 0660")
            }
            configuration.server.socketMode = mode
        case "socket_group":
            configuration.server.socketGroup = value.isEmpty ? nil : value
        case "allowed_uids":
            configuration.server.allowedUIDs = ConfigurationValue.list(value)
        case "allowed_gids":
            configuration.server.allowedGIDs = ConfigurationValue.list(value)
        case "max_connections":
            configuration.server.maxConnections = try ConfigurationValue.positive(value, key, source)
        case "max_in_flight_per_connection":
            configuration.server.maxInFlightPerConnection = try ConfigurationValue.positive(value, key, source)
        case "max_frame_bytes":
            configuration.server.maxFrameBytes = try ConfigurationValue.positive(value, key, source)
        case "idle_timeout_seconds":
            configuration.server.idleTimeoutSeconds = try ConfigurationValue.positive(value, key, source)
        case "shutdown_timeout_seconds":
            configuration.server.shutdownTimeoutSeconds = try ConfigurationValue.positive(value, key, source)
        case "status_interval_seconds":
            configuration.server.statusIntervalSeconds = try ConfigurationValue.positive(value, key, source)
        case "metrics_listen":
            guard !value.isEmpty else {
                configuration.server.metricsListen = nil
                return
            }
            guard let listen = SidecarServer.Configuration.MetricsListen(value) else {
                throw ConfigurationValue.invalid(
                    "\(source): metrics_listen must be host:port (e.g. 127.0.0.1:9464), or empty for none")
            }
            configuration.server.metricsListen = listen
        case "event_loop_threads":
            guard let threads = Int(value), (0...1024).contains(threads) else {
                throw ConfigurationValue.invalid("\(source): event_loop_threads must be 0 (one per CPU core) to 1024")
            }
            configuration.eventLoopThreads = threads
        case "log_level":
            let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
            guard levels.contains(value) else {
                throw ConfigurationValue.invalid("\(source): log_level must be one of \(levels.joined(separator: ", "))")
            }
            configuration.logLevel = value
        case "log_target":
            guard ["auto", "journald", "stderr"].contains(value) else {
                throw ConfigurationValue.invalid("\(source): log_target must be auto, journald or stderr")
            }
            configuration.logTarget = value
        default:
            // The mail engine's keys (smtp_client_name, pool_*, egress_allowed_cidrs,
            // attachment_*, dedup_window_seconds, state_*, credential_key_file).
            guard try configuration.mail.apply(key: key, value: value, source: source) else {
                throw ConfigurationValue.invalid("\(source): unknown key \"\(key)\"")
            }
        }
    }

    /// Where state lives unless configured: systemd's `$STATE_DIRECTORY` (from
    /// `StateDirectory=` in the unit), else /var/lib/smtp-sidecar for root, else the user's
    /// `$XDG_STATE_HOME/smtp-sidecar` (or ~/.local/state/smtp-sidecar), so a daemon started
    /// by hand works out of the box.
    static func defaultStateDirectory(environment: [String: String], isRoot: Bool) -> String {
        if let systemd = environment["STATE_DIRECTORY"]?.split(separator: ":").first, !systemd.isEmpty {
            return String(systemd)
        }
        if isRoot { return MailConfiguration().stateDirectory }
        if let xdg = environment["XDG_STATE_HOME"], xdg.hasPrefix("/") { return "\(xdg)/smtp-sidecar" }
        return "\(environment["HOME"] ?? "/tmp")/.local/state/smtp-sidecar"
    }

    func validate(_ configuration: DaemonConfiguration) throws(SidecarError) {
        if configuration.server.maxFrameBytes > Int(UInt32.max) {
            throw ConfigurationValue.invalid("max_frame_bytes must be at most \(UInt32.max)")
        }
    }
}
