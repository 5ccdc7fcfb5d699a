import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where the tests find the repository and the built probe, and what they need from the machine.
public enum TestEnvironment {
    /// The repository root: the first directory above this file (symlinks resolved)
    /// that holds `scripts/journald-sandbox.sh`.
    public static func repositoryRoot(filePath: String = #filePath) throws -> URL {
        for start in [URL(fileURLWithPath: filePath).resolvingSymlinksInPath(), URL(fileURLWithPath: filePath)] {
            var directory = start.deletingLastPathComponent()
            while directory.path != "/" {
                if FileManager.default.fileExists(atPath: directory.appendingPathComponent("scripts/journald-sandbox.sh").path) {
                    return directory
                }
                directory.deleteLastPathComponent()
            }
        }
        throw TestEnvironmentError("no scripts/journald-sandbox.sh above \(filePath)")
    }

    /// The `journald-probe` executable SwiftPM built beside the test binary
    /// (`.build/<triple>/<configuration>/`), or `$JOURNALD_PROBE`.
    public static func probePath() throws -> String {
        try builtExecutable("journald-probe", override: "JOURNALD_PROBE")
    }

    /// The `smtp-sidecar` executable SwiftPM built beside the test binary, or `$SMTP_SIDECAR_BIN`.
    public static func sidecarPath() throws -> String {
        try builtExecutable("smtp-sidecar", override: "SMTP_SIDECAR_BIN")
    }

    /// An executable product SwiftPM built beside the test binary, or the path in the
    /// environment variable `override`.
    public static func builtExecutable(_ name: String, override: String) throws -> String {
        if let explicit = ProcessInfo.processInfo.environment[override] { return explicit }
        var starts: [URL] = []
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            starts.append(URL(fileURLWithPath: executable))
        }
        starts.append(URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath())
        starts.append(Bundle.main.executableURL ?? URL(fileURLWithPath: "/"))
        for start in starts {
            // The test binary sits in the build directory itself on Linux, inside an
            // `.xctest` bundle (Contents/MacOS) on Darwin: look a few levels up.
            var directory = start.deletingLastPathComponent()
            for _ in 0..<4 {
                let candidate = directory.appendingPathComponent(name)
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
                directory.deleteLastPathComponent()
            }
        }
        throw TestEnvironmentError(
            "\(name) not found next to the test binary (\(starts.map(\.path))); build it with `swift build` "
                + "or set \(override)"
        )
    }

    /// Why a root-only test cannot run, or nil when it can.
    public static var rootRequirement: String? {
        geteuid() == 0
            ? nil
            : "this test needs root (a private mount namespace with tmpfs mounts, as CI has); run `swift test` as root"
    }

    /// Whether checks that read machine-wide counters run: only when nothing else on the
    /// machine is using TCP, which scripts/test.sh arranges by running them on their own
    /// after the suite (SIDECAR_ALONE_CHECKS=1). Among hundreds of parallel tests, with
    /// their idle and deliberately slow peers, the counters would count the other tests.
    public static var runsAloneChecks: Bool {
        ProcessInfo.processInfo.environment["SIDECAR_ALONE_CHECKS"] == "1"
    }

    /// The path of `program` on PATH, or nil.
    public static func which(_ program: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// A fresh temporary directory with a short path (Unix socket paths are limited to 107 bytes).
    public static func temporaryDirectory() throws -> URL {
        var template = Array("/tmp/sdtest.XXXXXX".utf8CString)
        guard let path = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw TestEnvironmentError("mkdtemp failed: errno \(errno)")
        }
        return URL(fileURLWithPath: String(cString: path))
    }
}

public struct TestEnvironmentError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
