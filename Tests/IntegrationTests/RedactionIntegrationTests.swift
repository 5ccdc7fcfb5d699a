import Foundation
import SidecarClient
import SidecarTestSupport
import Testing

/// With trace logging into a real journald, sends and verifies with a right and a wrong
/// password, AUTH LOGIN and an XOAUTH2 token: no password, token or AUTH payload (nor its
/// base64 forms) may appear in the journal, in any response, or in `stats`.
@Suite(.postfix) struct RedactionIntegrationTests {
    @Test func noSecretReachesTheJournalAResponseOrStats() async throws {
        if let reason = TestEnvironment.rootRequirement {
            Issue.record(Comment(rawValue: reason))
            return
        }
        let postfix = try #require(PostfixInstance.current)
        let root = try TestEnvironment.repositoryRoot()
        let directory = try TestEnvironment.temporaryDirectory()
        let journal = directory.appendingPathComponent("journal.json").path
        let socket = directory.appendingPathComponent("r.sock").path
        let wrong = "Wr0ng-\(UUID().uuidString)"
        let token = "ya29.\(UUID().uuidString)"
        let bin = try TestEnvironment.sidecarPath()
        let common = "-s '\(socket)' --host localhost --username '\(postfix.user)' --ca-file '\(postfix.directory)/tls/ca.pem'"
        let script = """
            set -u
            "\(bin)" serve --socket "\(socket)" --log-target journald --log-level trace --set state_directory="\(directory.path)/state" --set egress_allowed_cidrs=127.0.0.1/32,::1/128 &
            pid=$!
            for i in $(seq 1 200); do [ -S "\(socket)" ] && break; sleep 0.05; done
            export GOOD='\(postfix.password)' WRONG='\(wrong)' TOKEN='\(token)'
            "\(bin)" send \(common) --port \(postfix.submissionPort) --password-env GOOD --from '\(postfix.user)' --to a@example.test --subject redaction
            "\(bin)" send \(common) --port \(postfix.smtpsPort) --security tls --password-env GOOD --auth login --from '\(postfix.user)' --to a@example.test --subject redaction-login
            "\(bin)" send \(common) --port \(postfix.submissionPort) --password-env WRONG --from '\(postfix.user)' --to a@example.test
            "\(bin)" verify \(common) --port \(postfix.submissionPort) --password-env WRONG --auth login
            "\(bin)" verify \(common) --port \(postfix.submissionPort) --token-env TOKEN
            "\(bin)" verify \(common) --port \(postfix.submissionPort) --token-env TOKEN --auth xoauth2
            "\(bin)" stats -s "\(socket)"
            kill -TERM $pid
            wait $pid
            """
        let outcome = try await ChildProcess.run(
            "/bin/bash", [root.appendingPathComponent("scripts/journald-sandbox.sh").path, journal, "--", "/bin/bash", "-c", script],
            environment: ["NOTIFY_SOCKET": nil, "JOURNAL_STREAM": nil], timeout: .seconds(120))
        #expect(outcome.status == 0, "\(outcome.summary)")
        let text = try String(contentsOfFile: journal, encoding: .utf8)
        // The sends really happened, with secrets in play: one success, the failures coded.
        #expect(outcome.stdout.contains("\"outcome\" : \"sent\""), "\(outcome.summary)")
        #expect(outcome.stderr.contains("auth_failed"), "\(outcome.summary)")
        // One structured entry per send, with its fields.
        let entries = try text.split(separator: "\n").map { try JSONValue.parse(Data($0.utf8)) }
        let sent = entries.filter { $0["MESSAGE"] == .string("Sent") }
        #expect(sent.count == 2)
        for entry in sent {
            #expect(entry["OUTCOME"] == .string("sent"))
            #expect(entry["SMTP_REPLY_CODE"] == .string("250"))
            #expect(entry["SMTP_HOST"] == .string("localhost"))
            #expect(entry["WORKSPACE_ID"] == .string("cli"))
            #expect(entry["EMAIL_MESSAGE_ID"]?.string?.hasPrefix("<") == true)
            #expect(Int(entry["DURATION_TOTAL_MS"]?.string ?? "") != nil)
            #expect(Int(entry["DURATION_CONNECT_MS"]?.string ?? "") != nil)
        }
        #expect(entries.contains {
            $0["MESSAGE"] == .string("Send failed") && $0["SMTP_PHASE"] == .string("auth")
                && $0["ERROR_CODE"] == .string("auth_failed") && $0["PRIORITY"] == .string("4")
        })

        let user = postfix.user
        let secrets = [postfix.password, wrong, token]
        var forbidden: [String] = []
        for secret in secrets {
            forbidden.append(secret)
            forbidden.append(Data(secret.utf8).base64EncodedString())
            forbidden.append(Data("\u{0}\(user)\u{0}\(secret)".utf8).base64EncodedString())  // AUTH PLAIN
            forbidden.append(Data("user=\(user)\u{1}auth=Bearer \(secret)\u{1}\u{1}".utf8).base64EncodedString())  // XOAUTH2
        }
        for needle in forbidden {
            #expect(!text.contains(needle), "a secret form is in the journal")
            #expect(!outcome.stdout.contains(needle), "a secret form is in a response or stats")
            #expect(!outcome.stderr.contains(needle), "a secret form is in the CLI's error output")
        }
    }
}
