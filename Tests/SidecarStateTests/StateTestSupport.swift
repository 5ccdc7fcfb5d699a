import Foundation
import SidecarState

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A fresh directory for one test's database, removed when the test ends.
final class TemporaryStateDirectory {
    let path: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("sidecar-state-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    var databasePath: String { "\(path)/\(StateDatabase.fileName)" }

    func open() throws -> StateDatabase {
        try StateDatabase(stateDirectory: path)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum CrashProbe {
    /// `state-crash-probe`, built by SwiftPM beside the test binary, or `$STATE_CRASH_PROBE`.
    static func path() throws -> String {
        if let explicit = ProcessInfo.processInfo.environment["STATE_CRASH_PROBE"] { return explicit }
        var starts: [URL] = []
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            starts.append(URL(fileURLWithPath: executable))
        }
        starts.append(URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath())
        for start in starts {
            var directory = start.deletingLastPathComponent()
            for _ in 0..<4 {
                let candidate = directory.appendingPathComponent("state-crash-probe")
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
                directory.deleteLastPathComponent()
            }
        }
        throw TestFailure("state-crash-probe not found beside the test binary; build it or set STATE_CRASH_PROBE")
    }

    /// Runs the probe with `arguments`, waits for its "ready" line, SIGKILLs it, reaps it,
    /// and returns the line.
    static func runAndKill(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try path())
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        var line = Data()
        let deadline = Date().addingTimeInterval(30)
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty {
                guard process.isRunning, Date() < deadline else {
                    process.waitUntilExit()
                    throw TestFailure("the probe ended (status \(process.terminationStatus)) before saying ready")
                }
                continue
            }
            line.append(chunk)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        guard process.terminationReason == .uncaughtSignal, process.terminationStatus == SIGKILL else {
            throw TestFailure("the probe was not killed by SIGKILL")
        }
        return String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
