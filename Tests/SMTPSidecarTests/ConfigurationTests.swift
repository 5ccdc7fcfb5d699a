import Foundation
import NIOCore
import SidecarCore
import SidecarEgress
import SidecarMail
import SidecarPool
import SidecarServer
import SidecarTestSupport
import Testing

@testable import smtp_sidecar

@Suite struct ConfigurationTests {
    let loader = ConfigurationLoader()

    @Test func stateDirectoryFollowsSystemdThenTheUser() throws {
        #expect(try loader.load(fileText: nil, environment: ["STATE_DIRECTORY": "/var/lib/x:/var/lib/y"]).mail.stateDirectory == "/var/lib/x")
        #expect(try loader.load(fileText: nil, environment: [:], isRoot: true).mail.stateDirectory == "/var/lib/smtp-sidecar")
        #expect(try loader.load(fileText: nil, environment: ["HOME": "/home/u"], isRoot: false).mail.stateDirectory
            == "/home/u/.local/state/smtp-sidecar")
        #expect(try loader.load(fileText: nil, environment: ["XDG_STATE_HOME": "/s"], isRoot: false).mail.stateDirectory == "/s/smtp-sidecar")
        // An explicit setting wins over all of them.
        #expect(try loader.load(fileText: "state_directory = /data", environment: ["STATE_DIRECTORY": "/x"]).mail.stateDirectory == "/data")
    }

    @Test func defaultsWorkWithNothingConfigured() throws {
        let configuration = try loader.load(fileText: nil, environment: [:], isRoot: true)
        #expect(configuration == DaemonConfiguration())
        #expect(configuration.server.socketPath == "/run/smtp-sidecar/smtp-sidecar.sock")
        #expect(configuration.server.maxFrameBytes == 32 * 1024 * 1024)
    }

    @Test func metricsListenIsOffByDefaultAndTakesHostAndPort() throws {
        #expect(try loader.load(fileText: nil, environment: [:]).server.metricsListen == nil)
        let v4 = try loader.load(fileText: "metrics_listen = 127.0.0.1:9464", environment: [:])
        #expect(v4.server.metricsListen == .init(host: "127.0.0.1", port: 9464))
        let v6 = try loader.load(fileText: nil, environment: [:], overrides: ["metrics_listen": "[::1]:9100"])
        #expect(v6.server.metricsListen == .init(host: "::1", port: 9100))
        let off = try loader.load(fileText: "metrics_listen = 127.0.0.1:9464\nmetrics_listen =", environment: [:])
        #expect(off.server.metricsListen == nil)
    }

    @Test func fileThenEnvironmentThenOverridesEachWin() throws {
        let file = """
            # comment
            socket_path = /tmp/a.sock
            socket_mode = 0600
            max_connections = 10
            allowed_uids = 0, www-data
            log_level = "debug"
            event_loop_threads = 0
            pool_max_connections_per_key = 3
            pool_max_wait_seconds = 7
            attachment_timeout_seconds = 9

            """
        let configuration = try loader.load(
            fileText: file, environment: ["SMTP_SIDECAR_MAX_CONNECTIONS": "20", "SMTP_SIDECAR_LOG_LEVEL": "info", "PATH": "/bin"],
            overrides: ["log_level": "warning"])
        #expect(configuration.server.socketPath == "/tmp/a.sock")
        #expect(configuration.server.socketMode == 0o600)
        #expect(configuration.server.maxConnections == 20)
        #expect(configuration.server.allowedUIDs == ["0", "www-data"])
        #expect(configuration.logLevel == "warning")
        #expect(configuration.eventLoopThreads == 0)
        #expect(DaemonConfiguration().eventLoopThreads == 1)
        // The keys fill in each module's own configuration.
        #expect(configuration.mail.pool.maxConnectionsPerPool == 3)
        #expect(configuration.mail.pool.maxWait == .seconds(7))
        #expect(configuration.mail.attachments.idleReadTimeout == .seconds(9))
    }

    @Test(arguments: [
        ("max_connectons = 5", "unknown key"),
        ("max_connections = -1", "positive"),
        ("socket_mode = 999", "octal"),
        ("socket_path = relative.sock", "absolute"),
        ("log_target = syslog", "log_target"),
        ("just words", "key = value"),
        ("max_frame_bytes = 99999999999", "at most"),
        ("event_loop_threads = -1", "one per CPU core"),
        ("event_loop_threads = many", "event_loop_threads"),
        ("metrics_listen = 9464", "host:port"),
        ("metrics_listen = 127.0.0.1:99999", "host:port"),
    ])
    func badLinesAreErrorsNamingTheProblem(line: String, expected: String) {
        #expect {
            _ = try loader.load(fileText: "\n" + line, fileName: "test.conf", environment: [:])
        } throws: { error in
            guard let error = error as? SidecarError else { return false }
            return error.code == .invalidConfiguration && error.message.contains(expected)
                && (error.message.contains("test.conf:2") || expected == "at most")
        }
    }
}

@Suite struct ExampleConfigurationTests {
    /// The example shipped in packaging/ is what operators copy: it must load, and it must
    /// document the real defaults.
    @Test func packagedExampleLoadsAndStatesTheDefaults() throws {
        let url = try TestEnvironment.repositoryRoot().appendingPathComponent("packaging/smtp-sidecar.conf")
        let text = try String(contentsOf: url, encoding: .utf8)
        let configuration = try ConfigurationLoader().load(
            fileText: text, fileName: "smtp-sidecar.conf", environment: [:], isRoot: true)
        #expect(configuration == DaemonConfiguration())
    }
}
