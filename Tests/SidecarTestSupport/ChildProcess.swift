import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A program the tests run, with its output in files (no pipe can fill up and block it)
/// and a deadline enforced by coreutils' `timeout`, which also stops it when the test
/// process dies.
public final class ChildProcess: Sendable {
    public struct Outcome: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String

        /// What to show when an expectation about the run fails.
        public var summary: String { "exit \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }
    }

    // Process is not Sendable; it is only touched in init and in `signal`, whose kill(2)
    // on a fixed pid is thread-safe.
    private let pid: Int32
    private let exit = ExitSignal()
    private let directory: URL

    /// Starts `executable` with `arguments`; `environment` is added to (or, for `nil`
    /// values, removed from) the test process's environment.
    public init(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String?] = [:],
        timeout: Duration = .seconds(60)
    ) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for name in ["stdout", "stderr"] {
            guard FileManager.default.createFile(atPath: directory.appendingPathComponent(name).path, contents: nil) else {
                throw TestEnvironmentError("cannot create \(directory.path)/\(name)")
            }
        }

        var processEnvironment = ProcessInfo.processInfo.environment
        for (name, value) in environment { processEnvironment[name] = value }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["--kill-after=5", "\(timeout.components.seconds)", executable] + arguments
        process.environment = processEnvironment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: directory.appendingPathComponent("stdout"))
        process.standardError = try FileHandle(forWritingTo: directory.appendingPathComponent("stderr"))
        let exit = self.exit
        process.terminationHandler = { process in exit.finish(process.terminationStatus) }
        try process.run()
        pid = process.processIdentifier
    }

    /// The program's own pid (not `timeout`'s), for /proc readings; nil once it ended.
    public var programID: Int32? {
        let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return children.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }.first
    }

    /// Sends `signal` to the program itself. Not through `timeout`: it inherits the test
    /// runner thread's signal mask, in which SIGTERM may be blocked, so it would never
    /// forward it.
    public func signal(_ signal: Int32) {
        let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        let pids = children.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        for child in pids {
            kill(child, signal)
        }
        if pids.isEmpty {
            kill(pid, signal)
        }
    }

    /// Runs a program to its end.
    public static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String?] = [:],
        timeout: Duration = .seconds(60)
    ) async throws -> Outcome {
        try await ChildProcess(executable, arguments, environment: environment, timeout: timeout).wait()
    }

    /// What the program has written to stdout so far.
    public var currentStdout: String {
        (try? String(contentsOf: directory.appendingPathComponent("stdout"), encoding: .utf8)) ?? ""
    }

    /// Waits for the program to end and collects its output.
    ///
    /// Foundation's `Process` learns of a child's exit when a socket the child holds closes.
    /// A child another thread spawned at the same moment can inherit that socket (its
    /// descriptors to close were listed before the socket existed), and then the exit is
    /// noticed only when that other child exits: seen in full runs, a `timeout` stayed a
    /// zombie until a hostile server's 300 s limit, three times in one run. So while
    /// waiting, a child seen a zombie twice in a row, half a second apart, is reaped here
    /// and its status handed to the waiters as the handler would have. (Foundation's own
    /// waitpid then finds no child, and its late handler call is ignored.)
    public func wait() async throws -> Outcome {
        let pid = pid
        let exit = exit
        let reaper = Task {
            var zombieSeen = false
            while !Task.isCancelled, !exit.isFinished {
                try? await Task.sleep(for: .milliseconds(500))
                let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
                // The state follows the command's closing parenthesis.
                let isZombie = stat.lastIndex(of: ")").map { stat[$0...].dropFirst(2).hasPrefix("Z") } ?? false
                if isZombie && zombieSeen {
                    var status: Int32 = 0
                    if waitpid(pid, &status, WNOHANG) == pid {
                        // As Foundation reports it: the exit code, or the signal's number.
                        let signal = status & 0x7f
                        exit.finish(signal == 0 ? (status >> 8) & 0xff : signal)
                    }
                }
                zombieSeen = isZombie
            }
        }
        defer { reaper.cancel() }
        let status = await exit.wait()
        defer { try? FileManager.default.removeItem(at: directory) }
        return Outcome(
            status: status,
            stdout: try String(contentsOf: directory.appendingPathComponent("stdout"), encoding: .utf8),
            stderr: try String(contentsOf: directory.appendingPathComponent("stderr"), encoding: .utf8)
        )
    }
}

/// The exit status, handed from `Process`'s termination handler to whoever waits,
/// whichever comes first.
private final class ExitSignal: Sendable {
    private struct State {
        var status: Int32?
        var waiters: [CheckedContinuation<Int32, Never>] = []
    }

    private let state = Mutex(State())

    var isFinished: Bool { state.withLock { $0.status != nil } }

    /// The first status wins (the termination handler, or the reaper of ``ChildProcess/wait()``).
    func finish(_ status: Int32) {
        let waiters = state.withLock { state -> [CheckedContinuation<Int32, Never>] in
            guard state.status == nil else { return [] }
            state.status = status
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: status) }
    }

    func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            let status = state.withLock { state -> Int32? in
                if let status = state.status { return status }
                state.waiters.append(continuation)
                return nil
            }
            if let status { continuation.resume(returning: status) }
        }
    }
}
