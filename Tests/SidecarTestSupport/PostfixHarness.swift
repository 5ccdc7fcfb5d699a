import Foundation
import Testing

/// One private Postfix (scripts/postfix-harness.sh) for a whole suite: the `.postfix`
/// trait starts it before the suite's first test and stops it after its last, and tests
/// read it from ``PostfixInstance/current``.
public struct PostfixInstance: Sendable {
    @TaskLocal public static var current: PostfixInstance?

    public let directory: String
    public let values: [String: String]

    public func port(_ name: String) -> Int { Int(values[name] ?? "") ?? 0 }
    public var submissionPort: Int { port("SUBMISSION_PORT") }
    public var smtpsPort: Int { port("SMTPS_PORT") }
    public var plainPort: Int { port("PLAIN_PORT") }
    public var noPipeliningPort: Int { port("NOPIPELINING_PORT") }
    /// STARTTLS + AUTH with PIPELINING but without CHUNKING.
    public var noChunkingPort: Int { port("NOCHUNKING_PORT") }
    public var badCertPort: Int { port("BADCERT_PORT") }
    /// Plaintext, no AUTH, with Postfix's stock error limits (10 soft, 20 hard); refuses
    /// recipients whose address contains `unknown`.
    public var stockErrorsPort: Int { port("STOCK_ERRORS_PORT") }
    public var user: String { values["SMTP_USER"] ?? "" }
    public var password: String { values["SMTP_PASSWORD"] ?? "" }
    public var caPEM: String { (try? String(contentsOfFile: "\(directory)/tls/ca.pem", encoding: .utf8)) ?? "" }
    public var maildir: String { "\(directory)/maildir/new" }

    /// The repository root.
    public static let repositoryRoot: String = (try? TestEnvironment.repositoryRoot().path) ?? "."

    public static var script: String { "\(repositoryRoot)/scripts/postfix-harness.sh" }

    public static var isAvailable: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: script)
    }

    /// Two Postfix starts at a time (see ``StartPermits``).
    static let starts = StartPermits(2)

    public static func start() async throws -> PostfixInstance {
        let directory = try await starts.withPermit {
            try await run([script, "install"])
            let directory = try makeTemporaryDirectory()
            try await run([script, "start", directory])
            return directory
        }
        var values: [String: String] = [:]
        for file in ["ports.env", "users.env"] {
            let text = try String(contentsOfFile: "\(directory)/\(file)", encoding: .utf8)
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
                if parts.count == 2 { values[parts[0]] = parts[1] }
            }
        }
        return PostfixInstance(directory: directory, values: values)
    }

    public func stop() async {
        _ = try? await Self.run([Self.script, "stop", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Empties the Maildir so a test counts only its own messages.
    public func clearMaildir() throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: maildir) {
            try FileManager.default.removeItem(atPath: "\(maildir)/\(name)")
        }
    }

    /// Waits for `count` delivered files and returns their contents.
    public func waitForMail(count: Int, timeout: Int = 20) async throws -> [String] {
        try await Self.run([Self.script, "wait-mail", directory, String(count), String(timeout)])
        return try FileManager.default.contentsOfDirectory(atPath: maildir).sorted().map {
            try String(contentsOfFile: "\(maildir)/\($0)", encoding: .utf8)
        }
    }

    public var maillog: String {
        (try? String(contentsOfFile: "\(directory)/log/maillog", encoding: .utf8)) ?? ""
    }

    /// Runs the harness script without blocking a thread: the tests' concurrency pool has
    /// one thread per core, and a blocking wait for Postfix (seconds while it starts, up to
    /// the timeout while mail is awaited) starved every other suite's tests meanwhile.
    @discardableResult
    public static func run(_ arguments: [String]) async throws -> String {
        let outcome = try await ChildProcess.run(arguments[0], Array(arguments.dropFirst()), timeout: .seconds(300))
        guard outcome.status == 0 else {
            throw HarnessError(description: "\(arguments.joined(separator: " ")) failed: \(outcome.summary)")
        }
        return outcome.stdout + outcome.stderr
    }

    private static func makeTemporaryDirectory() throws -> String {
        var template = Array("/tmp/smtp-sidecar-postfix.XXXXXX".utf8CString)
        guard let pointer = mkdtemp(&template) else { throw HarnessError(description: "mkdtemp failed") }
        return String(cString: pointer)
    }

    public struct HarnessError: Error, CustomStringConvertible {
        public var description: String
    }
}

/// Starts Postfix around a suite (once, not per test) and stops it afterwards, so no
/// postfix process outlives `swift test`.
public struct PostfixTrait: SuiteTrait, TestScoping {
    public init() {}

    public var isRecursive: Bool { false }

    public func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        let instance = try await PostfixInstance.start()
        do {
            try await PostfixInstance.$current.withValue(instance) { try await function() }
        } catch {
            await instance.stop()
            throw error
        }
        await instance.stop()
    }
}

extension Trait where Self == PostfixTrait {
    public static var postfix: PostfixTrait { PostfixTrait() }
}
