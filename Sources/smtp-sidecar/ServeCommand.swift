import ArgumentParser
import FoundationEssentials
import Logging
import ServiceLifecycle
import SidecarCore
import SidecarProtocol
import NIOPosix
import SidecarMail
import SidecarServer
import UnixSignals

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the daemon.",
        discussion: """
            Under systemd socket activation the daemon adopts the socket systemd passes; otherwise it
            binds socket_path itself. Settings come from the configuration file, then SMTP_SIDECAR_*
            environment variables, then these flags.
            """)

    static let defaultConfigPath = "/etc/smtp-sidecar/smtp-sidecar.conf"

    @Option(name: .shortAndLong, help: "Configuration file (default \(defaultConfigPath), if it exists).")
    var config: String?

    @Option(name: .shortAndLong, help: "Unix socket to bind when not socket-activated.")
    var socket: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String?

    @Option(help: "auto, journald or stderr.")
    var logTarget: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Set any configuration key.", valueName: "key=value"))
    var settings: [String] = []

    func run() async throws {
        try await run(configuration: try configurationOrFailure())
    }

    /// The configuration, or the failure that names what is wrong with it.
    func configurationOrFailure() throws(CLIFailure) -> DaemonConfiguration {
        do {
            return try loadConfiguration()
        } catch {
            throw CLIFailure(error.message)
        }
    }

    /// Runs the daemon with `configuration`, read once (``SMTPSidecarCommand/main()`` reads
    /// it before anything else, for `event_loop_threads`).
    func run(configuration: DaemonConfiguration) async throws {
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        SystemdGlue.bootstrapLogging(target: configuration.logTarget, level: level)
        let logger = Logger(label: "smtp-sidecar")

        let policy: PeerPolicy
        do {
            policy = try PeerPolicy.resolve(uids: configuration.server.allowedUIDs, gids: configuration.server.allowedGIDs)
        } catch {
            logger.critical("\(error.message)")
            throw CLIFailure(error.message)
        }
        let listener: ListenerSource
        switch Result(catching: { () throws(SidecarError) in try SystemdGlue.inheritedListener() }) {
        case .success(let inherited?):
            listener = inherited
        case .success(nil):
            listener = .path(
                configuration.server.socketPath, mode: configuration.server.socketMode, group: configuration.server.socketGroup)
        case .failure(let error):
            logger.critical("\(error.message)")
            throw CLIFailure(error.message)
        }

        let notifier = SystemdGlue.makeNotifier()
        let metrics = DaemonMetrics(help: ServerMetrics.help.merging(MailMetrics.help) { first, _ in first })
        metrics.bootstrap()
        let stats = ServerStats(metrics: ServerMetrics(factory: metrics.factory))
        // Large requests (a big attachment in the frame) are parsed and composed off the
        // event loop, on the threads that compose streamed message bodies.
        let settings = SidecarServer.Settings(
            configuration: configuration.server, listener: listener, peerPolicy: policy,
            largeRequestExecutor: MailEngine.largeRequestExecutor)
        let mail: MailEngine
        do {
            mail = try MailEngine(
                configuration: configuration.mail, eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
                metrics: MailMetrics(factory: metrics.factory), logger: logger)
        } catch {
            logger.critical("\(error.message)")
            throw CLIFailure(error.message)
        }
        let router = OperationRouter(
            limits: .init(
                maxFrameBytes: settings.maxFrameBytes, maxInFlight: settings.maxInFlightPerConnection,
                idleTimeoutMs: configuration.server.idleTimeoutSeconds * 1000),
            serverVersion: SMTPSidecarCommand.version, stats: stats,
            mail: MailRoutes(
                send: { params, context in await mail.operations.send(params, logger: context.logger) },
                verify: { params, context in await mail.operations.verify(params, logger: context.logger) },
                credentialStatus: { params, context in await mail.credentialStatus(params, logger: context.logger) }),
            poolStatistics: mail.poolStatistics, stateStatus: mail.stateStatus,
            metricsText: { metrics.render(after: mail.updateMetrics) })
        let server = SidecarServer(settings: settings, handler: router, stats: stats, notifier: notifier, logger: logger)
        let reporter = StatusReporter(
            notifier: notifier, stats: stats, interval: .seconds(configuration.server.statusIntervalSeconds),
            detail: {
                let state = mail.stateStatus()
                return state.available ? "state \(state.backend)" : "state \(state.backend) UNAVAILABLE"
            })

        // Shut down in reverse: the server drains the sends in flight, then the pools QUIT
        // their idle connections, then the purge and the reporter stop.
        let scrapeListener = configuration.server.metricsListen.map { listen in
            MetricsHTTPListener(
                host: listen.host, port: listen.port, logger: logger,
                render: { metrics.render(after: mail.updateMetrics) })
        }
        let services: [ServiceGroupConfiguration.ServiceConfiguration] =
            [.init(service: reporter)] + (scrapeListener.map { [.init(service: $0)] } ?? [])
            + mail.tasks.map { .init(service: MailEngineService(task: $0)) } + [.init(service: server)]
        var groupConfiguration = ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(configuration.server.shutdownTimeoutSeconds)
        let group = ServiceGroup(configuration: groupConfiguration)
        logger.info("Starting", metadata: [
            "version": "\(SMTPSidecarCommand.version)", "max_connections": "\(configuration.server.maxConnections)",
            "max_frame_bytes": "\(configuration.server.maxFrameBytes)",
        ])
        do {
            try await group.run()
        } catch {
            guard server.isShuttingDown else {
                // Nothing asked the daemon to stop (a socket that cannot be bound, say):
                // a failure, so that Restart=on-failure restarts it.
                let message = (error as? SidecarError)?.message ?? "The daemon stopped unexpectedly: \(error)"
                logger.critical("\(message)")
                throw CLIFailure(message)
            }
            // The drain deadline passed and the rest was cancelled: still a clean stop.
            logger.warning("Stopped after the shutdown deadline", metadata: [
                "error": "\(error)", "requests_abandoned": "\(stats.inFlight)",
            ])
        }
        // Outcomes of the last sends are committed without being awaited: let them land.
        await mail.flush()
        logger.info("Stopped")
    }

    func loadConfiguration() throws(SidecarError) -> DaemonConfiguration {
        let path = config ?? (FileManager.default.fileExists(atPath: Self.defaultConfigPath) ? Self.defaultConfigPath : nil)
        var fileText: String?
        if let path {
            do {
                fileText = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw SidecarError(code: .invalidConfiguration, message: "Cannot read configuration file \(path): \(error)")
            }
        }
        var overrides: [String: String] = [:]
        for setting in settings {
            guard let equals = setting.firstIndex(of: "=") else {
                throw SidecarError(code: .invalidConfiguration, message: "--set expects key=value, not \"\(setting)\".")
            }
            overrides[String(setting[..<equals])] = String(setting[setting.index(after: equals)...])
        }
        if let socket { overrides["socket_path"] = socket }
        if let logLevel { overrides["log_level"] = logLevel }
        if let logTarget { overrides["log_target"] = logTarget }
        return try ConfigurationLoader().load(
            fileText: fileText, fileName: path ?? "config", environment: ProcessInfo.processInfo.environment,
            overrides: overrides)
    }
}
