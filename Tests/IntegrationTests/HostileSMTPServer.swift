import Foundation
import SidecarTestSupport

/// `scripts/hostile-smtp/hostile_smtp.py`, started for one test: an SMTP server (PIPELINING,
/// optional CHUNKING, STARTTLS with the test CA's certificate, AUTH PLAIN and LOGIN) that
/// misbehaves on purpose at one point of the session (`fault`, `POINT:ACTION`, as the
/// script's doc lists). What it saw (connections, the fault firing, messages, the client
/// closing) is read back from its event log.
struct HostileSMTPServer {
    let process: ChildProcess
    let port: Int
    let directory: URL

    var eventsPath: String { directory.appendingPathComponent("events").path }

    static func scriptDirectory() throws -> URL {
        try TestEnvironment.repositoryRoot().appendingPathComponent("scripts/hostile-smtp")
    }

    /// The CA that signed the server's certificate (for `localhost`, 127.0.0.1 and ::1).
    static func caPEM() throws -> String {
        try String(contentsOf: scriptDirectory().appendingPathComponent("ca.pem"), encoding: .utf8)
    }

    /// Debian's interpreter when present: pyenv's `python3` shim alone takes seconds to start.
    static func python() throws -> String {
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") { return "/usr/bin/python3" }
        guard let found = TestEnvironment.which("python3") else { throw TestEnvironmentError("python3 not found") }
        return found
    }

    static func start(fault: String?, chunking: Bool = false, arguments: [String] = []) async throws -> HostileSMTPServer {
        let directory = try TestEnvironment.temporaryDirectory()
        let portFile = directory.appendingPathComponent("port").path
        var all = [try scriptDirectory().appendingPathComponent("hostile_smtp.py").path,
                   "--port-file", portFile, "--events", directory.appendingPathComponent("events").path]
        if let fault { all += ["--fault", fault] }
        if chunking { all.append("--chunking") }
        let process = try ChildProcess(try python(), all + arguments, timeout: .seconds(300))
        let clock = ContinuousClock()
        let giveUp = clock.now + .seconds(20)
        while clock.now < giveUp {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8),
                let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                return HostileSMTPServer(process: process, port: port, directory: directory)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.signal(SIGKILL)
        let outcome = try await process.wait()
        throw TestEnvironmentError("hostile_smtp.py never listened\n\(outcome.summary)")
    }

    /// The event log, one entry per line: `<connection number> <event>`.
    var events: [String] {
        ((try? String(contentsOfFile: eventsPath, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func count(_ event: String) -> Int {
        events.filter { $0.split(separator: " ", maxSplits: 1).last.map(String.init) == event }.count
    }

    /// Connections accepted and not yet ended (closed by either side).
    var open: Int { count("accept") - count("close") }

    /// Waits until `condition` holds (polling the event log), at most `limit`.
    func wait(upTo limit: Duration = .seconds(10), _ condition: (HostileSMTPServer) -> Bool) async -> Bool {
        let clock = ContinuousClock()
        let giveUp = clock.now + limit
        while clock.now < giveUp {
            if condition(self) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition(self)
    }

    func stop() async {
        process.signal(SIGTERM)
        // SIGKILL if SIGTERM did not end it in 5 s (waiting on the process is not cancellable).
        let process = self.process
        let killer = Task {
            try await Task.sleep(for: .seconds(5))
            process.signal(SIGKILL)
        }
        _ = try? await process.wait()
        killer.cancel()
        try? FileManager.default.removeItem(at: directory)
    }
}
