import Foundation
import SidecarClient
import SidecarTestSupport
import Testing

/// The packaged unit's `SystemCallFilter=` must allow every system call the daemon makes
/// in a start, a few requests and a stop. A denied call fails with EPERM
/// (`SystemCallErrorNumber=`) instead of killing the daemon, so nothing crashes: the
/// daemon just misbehaves or, as libdispatch did for `setpriority`, writes an error line
/// to the journal at every start.
///
/// The filter is evaluated as systemd does (systemd.exec(5)): the first assignment is an
/// allow-list because it has no `~`; a later `~` assignment removes its calls, a later
/// plain one adds them back. Groups are expanded by this machine's
/// `systemd-analyze syscall-filter`. The calls made are counted by strace following every
/// thread of the real binary, started the way the socket unit starts it.
@Suite struct SyscallFilterIntegrationTests {
    @Test func everySystemCallTheDaemonMakesIsAllowedByTheUnit() async throws {
        let analyze = try #require(TestEnvironment.which("systemd-analyze"), "systemd-analyze is needed")
        let strace = try #require(TestEnvironment.which("strace"), "strace is needed (scripts/install-deps.sh)")
        let activate = try #require(TestEnvironment.which("systemd-socket-activate"), "systemd-socket-activate is needed")
        let unit = try String(
            contentsOf: TestEnvironment.repositoryRoot().appendingPathComponent("packaging/smtp-sidecar.service"),
            encoding: .utf8)
        let assignments = unit.split(separator: "\n").filter { $0.hasPrefix("SystemCallFilter=") }
            .map { String($0.dropFirst("SystemCallFilter=".count)) }
        try #require(!assignments.isEmpty && !assignments[0].hasPrefix("~"), "the unit starts from an allow-list")

        var expander = GroupExpander(analyze: analyze)
        var allowed: Set<String> = []
        for assignment in assignments {
            let deny = assignment.hasPrefix("~")
            let names = (deny ? assignment.dropFirst() : Substring(assignment)).split(separator: " ").map(String.init)
            for name in names {
                let calls = try await expander.expand(name)
                if deny { allowed.subtract(calls) } else { allowed.formUnion(calls) }
            }
        }
        #expect(!allowed.contains("reboot"), "the expansion must know the groups (@privileged holds reboot)")

        // As the unit runs it: an unprivileged user with no capabilities (as root, SQLite
        // would also fchown its journal files, which the unit's user never does).
        let setpriv = try #require(TestEnvironment.which("setpriv"), "setpriv is needed (util-linux)")
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let state = directory.appendingPathComponent("state").path
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
        try FileManager.default.setAttributes(
            [.ownerAccountID: 65534, .groupOwnerAccountID: 65534, .posixPermissions: 0o700], ofItemAtPath: state)
        let socketPath = directory.appendingPathComponent("sidecar.sock").path
        let summary = directory.appendingPathComponent("strace.txt").path
        let daemon = try ChildProcess(
            activate,
            ["-l", socketPath, "--fdname=smtp-sidecar", strace, "-D", "-f", "-qq", "-o", summary,
             setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
             try TestEnvironment.sidecarPath(), "serve", "--log-target", "stderr", "--set", "state_directory=\(state)"],
            environment: Daemon.cleanEnvironment, timeout: .seconds(120))
        for _ in 0..<400 where !FileManager.default.fileExists(atPath: socketPath) {
            try await Task.sleep(for: .milliseconds(25))
        }
        // The first connection starts the daemon; a few requests wake its worker threads.
        try await SidecarConnection.withConnection(socketPath: socketPath) { sidecar in
            _ = try await sidecar.hello(client: "syscall-filter")
            for index in 0..<20 { _ = try await sidecar.ping(data: "\(index)") }
            _ = try await sidecar.stats()
        }
        daemon.signal(SIGTERM)
        let outcome = try await daemon.wait()
        #expect(outcome.status == 0, "\(outcome.summary)")

        // strace -f: a line per call, "PID name(arguments) = result". With -D the tracer
        // is a grandchild (the daemon keeps the pid LISTEN_PID names) and has written
        // everything once the daemon has exited. setpriv's own calls (it drops the user)
        // come before it executes the daemon, and are not the daemon's.
        // The tracer may lag behind on a loaded machine: read once the trace stops growing.
        var trace = ""
        var unchanged = 0
        for _ in 0..<300 where unchanged < 10 {
            try await Task.sleep(for: .milliseconds(100))
            let now = (try? String(contentsOfFile: summary, encoding: .utf8)) ?? ""
            unchanged = now.utf8.count == trace.utf8.count ? unchanged + 1 : 0
            trace = now
        }
        let sidecar = try TestEnvironment.sidecarPath()
        var made: Set<String> = []
        var started = false
        for line in trace.split(separator: "\n") {
            if !started {
                started = line.contains("execve(\"\(sidecar)\"")
                continue
            }
            let fields = line.split(separator: " ", maxSplits: 1)
            guard fields.count == 2, Int(fields[0]) != nil else { continue }
            let call = fields[1].drop { $0 == " " }
            guard let open = call.firstIndex(of: "(") else { continue }
            let name = call[..<open]
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { continue }
            made.insert(String(name))
        }
        try #require(started, "strace saw the daemon start: \(trace.prefix(2000))")
        try #require(made.contains("accept4") || made.contains("accept"), "strace saw the daemon serve")
        let denied = made.subtracting(allowed).sorted()
        #expect(denied.isEmpty, "the unit's SystemCallFilter= denies \(denied), which the daemon calls")
    }

    /// `systemd-analyze syscall-filter @group`, expanded recursively and cached.
    struct GroupExpander {
        let analyze: String
        var cache: [String: Set<String>] = [:]

        mutating func expand(_ name: String) async throws -> Set<String> {
            guard name.hasPrefix("@") else { return [name] }
            if let known = cache[name] { return known }
            let run = try await ChildProcess.run(analyze, ["syscall-filter", "--no-pager", name])
            try #require(run.status == 0, "\(run.summary)")
            var calls: Set<String> = []
            for line in run.stdout.split(separator: "\n") where line.hasPrefix("    ") {
                let entry = line.trimmingCharacters(in: .whitespaces)
                guard !entry.hasPrefix("#"), !entry.isEmpty else { continue }
                calls.formUnion(try await expand(entry))
            }
            cache[name] = calls
            return calls
        }
    }
}
