import Foundation
import SidecarTestSupport
import Testing

/// A daemon that cannot start must exit non-zero with the reason: systemd's
/// `Restart=on-failure` restarts only a failure, and an operator reads the line in the
/// journal. A socket that could not be bound once exited 0, as if asked to stop.
@Suite struct StartupFailureIntegrationTests {
    static let longPath = "/tmp/" + String(repeating: "x", count: 120) + ".sock"

    /// (socket path, what the message must say)
    static let unbindable: [(String, String)] = [
        // Longer than sun_path's 108 bytes.
        (longPath, "longer than a Unix socket address holds"),
        // The parent is a regular file: no directory to bind in, whoever runs it.
        ("/etc/hostname/smtp-sidecar.sock", "Cannot listen on /etc/hostname/smtp-sidecar.sock"),
        // procfs refuses new files even to root.
        ("/proc/smtp-sidecar.sock", "Cannot listen on /proc/smtp-sidecar.sock"),
    ]

    @Test(arguments: unbindable)
    func socketThatCannotBeBoundExitsNonZeroWithTheReason(path: String, reason: String) async throws {
        let state = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: state) }
        let outcome = try await ChildProcess.run(
            try TestEnvironment.sidecarPath(),
            ["serve", "--socket", path, "--log-target", "stderr", "--set", "state_directory=\(state.path)"],
            environment: Daemon.cleanEnvironment)
        #expect(outcome.status != 0, "\(outcome.summary)")
        #expect(outcome.stderr.contains(reason), "\(outcome.summary)")
        // The reason is the operator's words, not a NIO type's description.
        #expect(!outcome.stderr.contains("IOError"), "\(outcome.summary)")
        #expect(!outcome.stderr.contains("Stopped after the shutdown deadline"), "\(outcome.summary)")
    }
}
