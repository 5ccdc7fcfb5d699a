import Foundation
import SidecarClient
import SidecarTestSupport

/// Starts the built `smtp-sidecar` binary for a test and waits for its socket.
struct Daemon {
    let process: ChildProcess
    let socketPath: String
    let directory: URL

    /// `smtp-sidecar serve` binding its own socket, with its state in `stateDirectory` (a
    /// fresh one by default) and loopback allow-listed (the test servers live there).
    static func start(
        _ extraArguments: [String] = [], environment: [String: String?] = [:], stateDirectory: String? = nil
    ) async throws -> Daemon {
        let directory = try TestEnvironment.temporaryDirectory()
        let socketPath = directory.appendingPathComponent("sidecar.sock").path
        let state = stateDirectory ?? directory.appendingPathComponent("state").path
        let process = try ChildProcess(
            try TestEnvironment.sidecarPath(),
            ["serve", "--socket", socketPath, "--log-target", "stderr", "--log-level", "debug",
             "--set", "state_directory=\(state)", "--set", "egress_allowed_cidrs=127.0.0.1/32,::1/128"] + extraArguments,
            environment: cleanEnvironment.merging(environment) { $1 }, timeout: .seconds(120))
        let daemon = Daemon(process: process, socketPath: socketPath, directory: directory)
        try await daemon.waitUntilServing()
        return daemon
    }

    /// The variables a test process may have inherited that would change the daemon's behaviour.
    static let cleanEnvironment: [String: String?] = [
        "NOTIFY_SOCKET": nil, "LISTEN_FDS": nil, "LISTEN_PID": nil, "LISTEN_FDNAMES": nil, "WATCHDOG_USEC": nil,
        "JOURNAL_STREAM": nil,
    ]

    func waitUntilServing() async throws {
        for _ in 0..<600 {
            // Accepting a connection is readiness; no request is sent, so counters stay clean.
            if FileManager.default.fileExists(atPath: socketPath), let probe = try? await RawClient.connect(socketPath) {
                await probe.close()
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        process.signal(SIGKILL)
        let outcome = try await process.wait()
        throw TestEnvironmentError("the daemon never served on \(socketPath)\n\(outcome.summary)")
    }

    func stop() async throws -> ChildProcess.Outcome {
        process.signal(SIGTERM)
        return try await process.wait()
    }
}
