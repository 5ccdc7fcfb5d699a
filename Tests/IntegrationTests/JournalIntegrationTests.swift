import Foundation
import SidecarClient
import SidecarTestSupport
import Testing

/// The daemon's own entries, read back from a real journald (private, in its own mount
/// namespace, started by `scripts/journald-sandbox.sh`).
@Suite struct JournalIntegrationTests {
    @Test func daemonLogsStructuredEntriesAndNeverASecret() async throws {
        if let reason = TestEnvironment.rootRequirement {
            Issue.record(Comment(rawValue: reason))
            return
        }
        let root = try TestEnvironment.repositoryRoot()
        let directory = try TestEnvironment.temporaryDirectory()
        let journal = directory.appendingPathComponent("journal.json").path
        let socket = directory.appendingPathComponent("j.sock").path
        let secret = "pw-\(UUID().uuidString)"
        let bin = try TestEnvironment.sidecarPath()
        // A request carrying a password in every way a client might send one.
        let request = #"{"id":"v1","op":"verify","params":{"workspace_id":"ws","credential":{"host":"smtp.example.com","username":"u","password":"\#(secret)","access_token":"\#(secret)"}}}"#
        let script = """
            set -eu
            "\(bin)" serve --socket "\(socket)" --log-target journald --log-level trace --set state_directory="\(directory.path)/state" --set egress_allowed_cidrs=127.0.0.1/32,::1/128 &
            pid=$!
            for i in $(seq 1 200); do [ -S "\(socket)" ] && break; sleep 0.05; done
            "\(bin)" ping -s "\(socket)" -c 3
            python3 - "\(socket)" <<'PY'
            import socket, struct, sys
            s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
            body = open(0).read() if False else '''\(request)'''.encode()
            s.sendall(struct.pack(">I", len(body)) + body)
            n = struct.unpack(">I", s.recv(4))[0]; print(s.recv(n).decode())
            PY
            kill -TERM $pid
            wait $pid
            """
        let outcome = try await ChildProcess.run(
            "/bin/bash", [root.appendingPathComponent("scripts/journald-sandbox.sh").path, journal, "--", "/bin/bash", "-c", script],
            environment: ["NOTIFY_SOCKET": nil, "JOURNAL_STREAM": nil], timeout: .seconds(90))
        try #require(outcome.status == 0, "\(outcome.summary)")
        // The verify response never echoes the password either.
        #expect(!outcome.stdout.contains(secret))
        #expect(outcome.stdout.contains("\"id\":\"v1\""))

        let text = try String(contentsOfFile: journal, encoding: .utf8)
        let entries = try text.split(separator: "\n").map { try JSONValue.parse(Data($0.utf8)) }
        let ours = entries.filter { $0["SYSLOG_IDENTIFIER"] == .string("smtp-sidecar") }
        #expect(ours.count >= 5, "\(text.prefix(2000))")

        let listening = try #require(ours.first { $0["MESSAGE"] == .string("Listening") })
        #expect(listening["SOCKET"] == .string(socket))
        #expect(listening["PRIORITY"] == .string("6"))
        #expect(listening["CODE_FUNC"] != nil && listening["CODE_LINE"] != nil)

        let connected = try #require(ours.first { $0["MESSAGE"] == .string("Client connected") })
        #expect(connected["CONNECTION_ID"] != nil)
        #expect(connected["PEER_UID"] == .string("0"))
        #expect(connected["PRIORITY"] == .string("7"))
        #expect(ours.contains { $0["MESSAGE"]?.string?.hasPrefix("Shutting down") == true })

        // The secret is nowhere: not plain, not base64, not in any field of any entry.
        #expect(!text.contains(secret))
        #expect(!text.contains(Data(secret.utf8).base64EncodedString()))
    }
}
