import Foundation
import SidecarCore
import SidecarServer
import SidecarTestSupport
import Testing

@Suite struct ConfigurationTests {
    let loader = ConfigurationLoader()

    @Test func stateDirectoryFollowsSystemdThenTheUser() throws {
        #expect(try loader.load(fileText: nil, environment: ["STATE_DIRECTORY": "/var/lib/x:/var/lib/y"]).stateDirectory == "/var/lib/x")
        #expect(try loader.load(fileText: nil, environment: [:], isRoot: true).stateDirectory == "/var/lib/smtp-sidecar")
        #expect(try loader.load(fileText: nil, environment: ["HOME": "/home/u"], isRoot: false).stateDirectory
            == "/home/u/.local/state/smtp-sidecar")
        #expect(try loader.load(fileText: nil, environment: ["XDG_STATE_HOME": "/s"], isRoot: false).stateDirectory == "/s/smtp-sidecar")
        // An explicit setting wins over all of them.
        #expect(try loader.load(fileText: "state_directory = /data", environment: ["STATE_DIRECTORY": "/x"]).stateDirectory == "/data")
    }

    @Test func defaultsWorkWithNothingConfigured() throws {
        let configuration = try loader.load(fileText: nil, environment: [:], isRoot: true)
        #expect(configuration == SidecarConfiguration())
        #expect(configuration.socketPath == "/run/smtp-sidecar/smtp-sidecar.sock")
        #expect(configuration.maxFrameBytes == 32 * 1024 * 1024)
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

            """
        let configuration = try loader.load(
            fileText: file, environment: ["SMTP_SIDECAR_MAX_CONNECTIONS": "20", "SMTP_SIDECAR_LOG_LEVEL": "info", "PATH": "/bin"],
            overrides: ["log_level": "warning"])
        #expect(configuration.socketPath == "/tmp/a.sock")
        #expect(configuration.socketMode == 0o600)
        #expect(configuration.maxConnections == 20)
        #expect(configuration.allowedUIDs == ["0", "www-data"])
        #expect(configuration.logLevel == "warning")
        #expect(configuration.eventLoopThreads == 0)
        #expect(SidecarConfiguration().eventLoopThreads == 1)
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

    @Test func peerPolicyResolvesNamesAndNumbers() throws {
        let policy = try PeerPolicy.resolve(uids: ["root", "1234"], gids: ["0"])
        #expect(policy.allowedUIDs == [0, 1234])
        #expect(policy.allows(PeerCredentials(pid: 1, uid: 1234, gid: 99)))
        #expect(policy.allows(PeerCredentials(pid: 1, uid: 99, gid: 0)))
        #expect(!policy.allows(PeerCredentials(pid: 1, uid: 99, gid: 99)))
        #expect(!policy.allows(nil))
        #expect(PeerPolicy().allows(nil))
        #expect(throws: SidecarError.self) { try PeerPolicy.resolve(uids: ["no-such-user-here"], gids: []) }
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
        #expect(configuration == SidecarConfiguration())
    }
}
