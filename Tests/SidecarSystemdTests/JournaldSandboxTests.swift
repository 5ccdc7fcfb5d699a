import Foundation
import SidecarCore
import SidecarTestSupport
import Testing

/// `journald-probe log` writes through JournaldLogHandler to a real systemd-journald,
/// which scripts/journald-sandbox.sh runs in a private mount namespace; the entries are
/// read back with `journalctl -o json --all`.
@Suite struct JournaldSandboxTests {
    /// One journal entry; a field sent twice is a JSON array, binary data an array of bytes.
    typealias Entry = [String: Any]

    @Test func probeEntriesArriveWithMappedFieldsAndNoSecret() async throws {
        if let reason = TestEnvironment.rootRequirement { Issue.record(Comment(rawValue: reason)); return }
        try #require(FileManager.default.isExecutableFile(atPath: "/lib/systemd/systemd-journald"),
                     "systemd-journald is not installed (apt-get install systemd)")
        try #require(TestEnvironment.which("unshare") != nil, "unshare(1) is not installed (util-linux)")
        let root = try TestEnvironment.repositoryRoot()
        let probe = try TestEnvironment.probePath()
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let journalFile = directory.appendingPathComponent("journal.json")
        // Random, so that it cannot be in the journal by chance (journald's own messages,
        // another test's entries).
        let secretValue = "pw-" + UUID().uuidString

        let run = try await ChildProcess.run(
            root.appendingPathComponent("scripts/journald-sandbox.sh").path,
            [journalFile.path, "--", probe, "log", "--target", "auto", "--secret-env", "PROBE_SECRET"],
            environment: ["PROBE_SECRET": secretValue],
            timeout: .seconds(60)
        )
        try #require(run.status == 0, "\(run.summary)")
        #expect(run.stdout.contains("destination=journald"), "\(run.summary)")
        #expect(run.stderr.isEmpty, "nothing should fall back to stderr: \(run.summary)")

        let raw = try String(contentsOf: journalFile, encoding: .utf8)
        let entries = try raw.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? Entry)
        }
        let probeEntries = entries.filter { $0["SYSLOG_IDENTIFIER"] as? String == "journald-probe" }
        let logged = Self.loggedLines(run.stdout)
        try #require(probeEntries.count == logged.count, "entries: \(probeEntries.count), logged: \(logged)")

        // The entry with the metadata.
        let main = try #require(probeEntries.first { ($0["MESSAGE"] as? String)?.hasPrefix("authenticating") == true })
        #expect(main["MESSAGE"] as? String == "authenticating with password \(Secret.redacted)")
        #expect(main["PRIORITY"] as? String == "6")
        #expect(main["LOGGER_LABEL"] as? String == "smtp-sidecar.probe")
        #expect(main["CODE_FILE"] as? String == "journald_probe/main.swift")
        #expect(main["CODE_FUNC"] as? String == "runLog(_:)")
        #expect(main["CODE_LINE"] as? String == logged["info"])
        let expectedFields: [String: String] = [
            "SMTP_HOST": "mx.example.com",
            "SMTP_PORT": "587",
            "SMTP_TLS_MODE": "starttls",
            "WEIRD_KEY_NAME_42": "sanitized",
            "META_2FA": "digit-first",
            "PRIVATE": "leading-underscore",
            "META_MESSAGE": "not the message",
            "RECIPIENTS": "a@example.com,b@example.com",
            "MULTI_LINE": "line one\nline two\n\ttabbed",
            "PASSWORD": Secret.redacted,
            "COMPONENT": "probe",
            "PROVIDED": "by-provider",
            "PRECEDENCE": "call",
            "PROVIDER_OVER_HANDLER": "provider",
        ]
        for (name, value) in expectedFields {
            #expect(main[name] as? String == value, "field \(name): \(String(describing: main[name]))")
        }

        // Every level, with its priority and its own source line.
        let priorities = ["trace": "7", "debug": "7", "info": "6", "notice": "5", "warning": "4", "error": "3",
                          "critical": "2"]
        for (level, priority) in priorities where level != "info" {
            let entry = try #require(probeEntries.first { $0["MESSAGE"] as? String == "\(level) entry" }, "\(level)")
            #expect(entry["PRIORITY"] as? String == priority, "\(level)")
            #expect(entry["CODE_LINE"] as? String == logged[level], "\(level)")
            #expect(entry["PRECEDENCE"] as? String == "provider", "provider metadata beats handler metadata")
        }

        // A field too large for one datagram arrives whole (libsystemd's memfd path; journalctl --all).
        let large = try #require(probeEntries.first { $0["MESSAGE"] as? String == "large entry" })
        #expect(large["LARGE_VALUE"] as? String == String(repeating: "0123456789", count: 30_000))
        #expect(large["CODE_LINE"] as? String == logged["large"])

        // The secret is nowhere: not in any field of any entry, plain or base64.
        #expect(!raw.contains(secretValue))
        #expect(!raw.contains(Data(secretValue.utf8).base64EncodedString()))
        #expect(!run.stdout.contains(secretValue) && !run.stderr.contains(secretValue))
    }

    /// `logged level=info line=78` → ["info": "78"]
    static func loggedLines(_ stdout: String) -> [String: String] {
        var lines: [String: String] = [:]
        for line in stdout.split(separator: "\n") where line.hasPrefix("logged ") {
            let pairs = line.split(separator: " ").dropFirst().map { $0.split(separator: "=", maxSplits: 1) }
            let fields = Dictionary(uniqueKeysWithValues: pairs.map { (String($0[0]), String($0[1])) })
            if let level = fields["level"], let number = fields["line"] { lines[level] = number }
        }
        return lines
    }

    @Test func withoutAJournalTheProbeWritesLogfmtToStandardError() async throws {
        let probe = try TestEnvironment.probePath()
        let secretValue = "pw-" + UUID().uuidString
        // Explicit stderr target: whatever this machine has, nothing goes to a journal.
        let run = try await ChildProcess.run(
            probe, ["log", "--target", "stderr", "--secret-env", "PROBE_SECRET"],
            environment: ["PROBE_SECRET": secretValue]
        )
        try #require(run.status == 0, "\(run.summary)")
        let lines = run.stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 8, "one line per entry: \(run.summary)")
        let first = try #require(lines.first)
        #expect(first.hasPrefix("ts="))
        #expect(first.contains(" level=info logger=smtp-sidecar.probe msg=\"authenticating with password <redacted>\""))
        #expect(first.contains(#" multi_line="line one\nline two\n\ttabbed""#))
        #expect(first.contains(" smtp.tls.mode=starttls "))
        #expect(first.contains(" password=<redacted> "))
        #expect(!run.stderr.contains(secretValue))
    }
}
