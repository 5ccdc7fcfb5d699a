#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NIOCore
import SidecarCore
import SidecarEgress
import SidecarMail
import SidecarPool
import SidecarServer

/// Builds a ``DaemonConfiguration`` from a file's text, the environment and overrides: the
/// one table of configuration keys.
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
            throw invalid("\(location): expected \"key = value\"")
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
            guard value.hasPrefix("/") else { throw Self.invalid("\(source): socket_path must be absolute") }
            configuration.server.socketPath = value
        case "socket_mode":
            guard let mode = UInt32(value, radix: 8), mode <= 0o777 else {
                throw Self.invalid("\(source): socket_mode must be an octal mode like 0660")
            }
            configuration.server.socketMode = mode
        case "socket_group":
            configuration.server.socketGroup = value.isEmpty ? nil : value
        case "allowed_uids":
            configuration.server.allowedUIDs = Self.list(value)
        case "allowed_gids":
            configuration.server.allowedGIDs = Self.list(value)
        case "max_connections":
            configuration.server.maxConnections = try Self.positive(value, key, source)
        case "max_in_flight_per_connection":
            configuration.server.maxInFlightPerConnection = try Self.positive(value, key, source)
        case "max_frame_bytes":
            configuration.server.maxFrameBytes = try Self.positive(value, key, source)
        case "idle_timeout_seconds":
            configuration.server.idleTimeoutSeconds = try Self.positive(value, key, source)
        case "shutdown_timeout_seconds":
            configuration.server.shutdownTimeoutSeconds = try Self.positive(value, key, source)
        case "status_interval_seconds":
            configuration.server.statusIntervalSeconds = try Self.positive(value, key, source)
        case "event_loop_threads":
            guard let threads = Int(value), (0...1024).contains(threads) else {
                throw Self.invalid("\(source): event_loop_threads must be 0 (one per CPU core) to 1024")
            }
            configuration.eventLoopThreads = threads
        case "log_level":
            let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
            guard levels.contains(value) else {
                throw Self.invalid("\(source): log_level must be one of \(levels.joined(separator: ", "))")
            }
            configuration.logLevel = value
        case "log_target":
            guard ["auto", "journald", "stderr"].contains(value) else {
                throw Self.invalid("\(source): log_target must be auto, journald or stderr")
            }
            configuration.logTarget = value
        case "smtp_client_name":
            guard value.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
                throw Self.invalid("\(source): smtp_client_name must be a host name or an address literal like [192.0.2.1]")
            }
            configuration.mail.smtpClientName = value.isEmpty ? nil : value
        case "pool_enabled":
            guard let flag = ["true": true, "yes": true, "1": true, "false": false, "no": false, "0": false][value.lowercased()]
            else { throw Self.invalid("\(source): pool_enabled must be true or false") }
            configuration.mail.poolEnabled = flag
        case "pool_max_connections_per_key":
            configuration.mail.pool.maxConnectionsPerPool = try Self.positive(value, key, source)
        case "pool_max_connections":
            configuration.mail.pool.maxConnectionsTotal = try Self.positive(value, key, source)
        case "pool_max_connections_per_workspace":
            configuration.mail.poolMaxConnectionsPerWorkspace = value.isEmpty ? nil : try Self.positive(value, key, source)
        case "pool_max_connections_per_server":
            configuration.mail.poolMaxConnectionsPerServer = value.isEmpty ? nil : try Self.positive(value, key, source)
        case "pool_max_wait_seconds":
            configuration.mail.pool.maxWait = .seconds(try Self.positive(value, key, source))
        case "pool_idle_timeout_seconds":
            configuration.mail.pool.idleTimeout = .seconds(try Self.positive(value, key, source))
        case "pool_max_connection_age_seconds":
            configuration.mail.pool.maxConnectionAge = .seconds(try Self.positive(value, key, source))
        case "pool_max_messages_per_connection":
            configuration.mail.pool.maxUsesPerConnection = try Self.positive(value, key, source)
        case "pool_check_after_idle_seconds":
            configuration.mail.pool.checkAfterIdle = .seconds(try Self.positive(value, key, source))
        case "egress_allowed_cidrs":
            configuration.mail.egressAllowedCIDRs = Self.list(value)
        case "dedup_window_seconds":
            guard let seconds = Int(value), seconds >= 0 else {
                throw Self.invalid("\(source): dedup_window_seconds must be 0 or more")
            }
            configuration.mail.dedupWindowSeconds = seconds
        case "state_purge_interval_seconds":
            let seconds = try Self.positive(value, key, source)
            guard seconds <= 86_400 else {
                throw Self.invalid("\(source): state_purge_interval_seconds must be at most 86400 (a day)")
            }
            configuration.mail.statePurgeIntervalSeconds = seconds
        case "credential_key_file":
            configuration.mail.credentialKeyFile = value.isEmpty ? nil : value
        case "attachment_max_bytes":
            configuration.mail.attachments.maxBytes = try Self.positive(value, key, source)
        case "attachment_timeout_seconds":
            configuration.mail.attachments.idleReadTimeout = .seconds(Int64(try Self.positive(value, key, source)))
        case "state_directory":
            guard value.hasPrefix("/") else { throw Self.invalid("\(source): state_directory must be absolute") }
            configuration.mail.stateDirectory = value
        default:
            throw Self.invalid("\(source): unknown key \"\(key)\"")
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
            throw Self.invalid("max_frame_bytes must be at most \(UInt32.max)")
        }
    }

    static func list(_ value: String) -> [String] {
        value.split(separator: ",").map { String($0).trimmingUnicodeWhitespace() }.filter { !$0.isEmpty }
    }

    static func positive(_ value: String, _ key: String, _ source: String) throws(SidecarError) -> Int {
        guard let number = Int(value), number > 0 else {
            throw invalid("\(source): \(key) must be a positive integer, not \"\(value)\"")
        }
        return number
    }

    static func invalid(_ message: String) -> SidecarError {
        SidecarError(code: .invalidConfiguration, message: "Invalid configuration: \(message).")
    }
}
