import Foundation
import SidecarClient
import SidecarCore
import SidecarProtocol
import SidecarTestSupport
import Testing

/// The `metrics` operation of a real daemon sending through a real Postfix: the text is
/// valid Prometheus exposition (`promtool check metrics`), its counters move by exactly the
/// sends made, and it names no workspace, credential, host or address.
@Suite(.serialized, .postfix) struct MetricsIntegrationTests {
    var postfix: PostfixInstance { PostfixInstance.current! }

    static let workspace = "ws-metrics-acme-corp"
    static let credentialID = "cred-metrics-billing"

    func params(password: String? = nil, subject: String = "metrics") -> SendParams {
        var params = SendParams(
            workspaceID: Self.workspace,
            credential: CredentialParams(
                id: Self.credentialID, host: "localhost", port: postfix.submissionPort, username: postfix.user,
                password: Secret(password ?? postfix.password), tls: .init(caPEM: postfix.caPEM)))
        params.from = postfix.user
        params.to = ["metrics-recipient@example.test"]
        params.subject = subject
        params.text = "metrics"
        return params
    }

    func send(_ params: SendParams, _ daemon: Daemon) async throws -> SidecarConnection.RawResponse {
        try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
            try await sidecar.callRaw("send", params: params)
        }
    }

    @Test func metricsCountSendsRefusalsAndFailuresAndNameNoOne() async throws {
        let daemon = try await Daemon.start()
        let before = try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { try await $0.metrics() }
        #expect(before.contentType == "text/plain; version=0.0.4")
        let start = try PrometheusText(before.text)

        // Sent.
        let sent = try await send(params(subject: "metrics sent"), daemon)
        let messageID = try #require(try sent.result(as: SendResult.self)?.messageID)
        #expect(sent.ok)
        // Refused before SMTP: a recipient sent the triggering email (mail loop).
        var loop = params()
        loop.context = .init(triggerEmail: "metrics-recipient@example.test")
        #expect(try await send(loop, daemon).error?.code == .mailLoop)
        // Refused by the request decoder, before the mail engine: no credential.
        var noCredential = params()
        noCredential.credential = nil
        #expect(try await send(noCredential, daemon).error?.code == .invalidParams)
        // Failed at the server: a wrong password.
        let wrongPassword = "not-the-password-\(UUID().uuidString.prefix(8))"
        #expect(try await send(params(password: wrongPassword), daemon).error?.code == .authFailed)

        // Read through the CLI this time: `smtp-sidecar metrics` prints the text itself.
        let cli = try await ChildProcess.run(try TestEnvironment.sidecarPath(), ["metrics", "--socket", daemon.socketPath])
        #expect(cli.status == 0, "\(cli.summary)")
        let text = cli.stdout
        let end = try PrometheusText(text)

        let file = try TestEnvironment.temporaryDirectory().appendingPathComponent("metrics.prom")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let promtool = try await ChildProcess.run("/bin/sh", ["-c", "promtool check metrics < '\(file.path)'"])
        #expect(promtool.status == 0, "promtool: \(promtool.summary)\n--- metrics\n\(text)")

        func delta(_ name: String, _ labels: [String: String] = [:]) -> Double {
            end.value(name, labels) - start.value(name, labels)
        }
        #expect(delta("smtp_sidecar_sends_total", ["outcome": "sent", "code": "none"]) == 1)
        #expect(delta("smtp_sidecar_sends_total", ["outcome": "not_sent", "code": "mail_loop"]) == 1)
        #expect(delta("smtp_sidecar_sends_total", ["outcome": "not_sent", "code": "auth_failed"]) == 1)
        #expect(delta("smtp_sidecar_sends_total", ["outcome": "not_sent", "code": "invalid_params"]) == 0,
            "a request the decoder refused is no send")
        #expect(end.sum("smtp_sidecar_sends_total") - start.sum("smtp_sidecar_sends_total") == 3)
        #expect(delta("smtp_sidecar_requests_total", ["operation": "send", "result": "ok"]) == 1)
        #expect(delta("smtp_sidecar_requests_total", ["operation": "send", "result": "mail_loop"]) == 1)
        // Refused while its params were decoded: its operation is not known to have been read.
        #expect(delta("smtp_sidecar_requests_total", ["operation": "unknown", "result": "invalid_params"]) == 1)
        #expect(delta("smtp_sidecar_requests_total", ["operation": "send", "result": "auth_failed"]) == 1)
        #expect(delta("smtp_sidecar_requests_total", ["operation": "metrics", "result": "ok"]) == 1,
            "the first scrape, answered before the second was rendered")
        // The sent message and the refused password reached the server; the others did not.
        for stage in ["connect", "transaction", "total"] {
            #expect(delta("smtp_sidecar_send_duration_seconds_count", ["stage": stage]) == 2, "stage \(stage)")
        }
        #expect(delta("smtp_sidecar_send_duration_seconds_sum", ["stage": "total"]) > 0)
        #expect(delta("smtp_sidecar_pool_connections_created_total") >= 1)
        // At least the CLI's own connection and request (the server may not have seen the
        // earlier clients' closes yet).
        #expect(end.value("smtp_sidecar_client_connections") >= 1)
        #expect(end.value("smtp_sidecar_requests_in_flight") >= 1)
        #expect(end.sum("smtp_sidecar_state_errors_total") == 0)

        for word in [
            Self.workspace, Self.credentialID, "localhost", "127.0.0.1", "example.test", postfix.user, postfix.password,
            wrongPassword, messageID,
        ] {
            #expect(!text.contains(word), "the metrics name \(word)")
        }
        _ = try await daemon.stop()
    }
}

/// Samples of a Prometheus text exposition, by metric name and label set.
struct PrometheusText {
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    var samples: [Sample] = []

    init(_ text: String) throws {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                throw TestEnvironmentError("not a sample: \(line)")
            }
            let series = line[..<space]
            guard let brace = series.firstIndex(of: "{") else {
                samples.append(Sample(name: String(series), labels: [:], value: value))
                continue
            }
            var labels: [String: String] = [:]
            // Our label values hold no quote, comma or backslash.
            for pair in series[series.index(after: brace)..<series.index(before: series.endIndex)].split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { throw TestEnvironmentError("not a label: \(pair)") }
                labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
            }
            samples.append(Sample(name: String(series[..<brace]), labels: labels, value: value))
        }
    }

    /// The sample with exactly these labels (0 if absent: a series appears when first counted).
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double {
        samples.first { $0.name == name && $0.labels == labels }?.value ?? 0
    }

    /// All the samples of `name`, whatever their labels.
    func sum(_ name: String) -> Double {
        samples.filter { $0.name == name }.map(\.value).reduce(0, +)
    }
}

/// `metrics_listen`: the same text over HTTP, at `/metrics` only.
@Suite struct MetricsHTTPIntegrationTests {
    /// GETs `path` on loopback `port`: the status, the Content-Type and the body, one per line
    /// before the body.
    static func get(port: Int, _ path: String) async throws -> (status: Int, contentType: String, body: String) {
        let script = """
            import sys, urllib.request, urllib.error
            try:
                r = urllib.request.urlopen("http://127.0.0.1:%s%s" % (sys.argv[1], sys.argv[2]), timeout=10)
                print(r.status); print(r.headers.get("Content-Type")); sys.stdout.write(r.read().decode())
            except urllib.error.HTTPError as e:
                print(e.code); print(e.headers.get("Content-Type")); sys.stdout.write(e.read().decode())
            """
        let run = try await ChildProcess.run("/usr/bin/env", ["python3", "-c", script, "\(port)", path])
        guard run.status == 0 else { throw TestEnvironmentError("GET \(path): \(run.summary)") }
        let lines = run.stdout.split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false)
        guard lines.count == 3, let status = Int(lines[0]) else { throw TestEnvironmentError("GET \(path): \(run.summary)") }
        return (status, String(lines[1]), String(lines[2]))
    }

    /// A TCP port on loopback that nothing listens on now.
    static func freePort() async throws -> Int {
        let run = try await ChildProcess.run("/usr/bin/env", [
            "python3", "-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])",
        ])
        return try #require(Int(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    @Test func aScraperGetsTheMetricsOverHTTPAndNothingElse() async throws {
        let port = try await Self.freePort()
        let daemon = try await Daemon.start(["--set", "metrics_listen=127.0.0.1:\(port)"])
        // The Unix socket answering does not mean the HTTP listener is up yet: wait for it too.
        var scrape: (status: Int, contentType: String, body: String)?
        for _ in 0..<100 {
            if let answer = try? await Self.get(port: port, "/metrics") {
                scrape = answer
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let metrics = try #require(scrape, "nothing answered on 127.0.0.1:\(port)")
        #expect(metrics.status == 200)
        #expect(metrics.contentType.hasPrefix("text/plain; version=0.0.4"))
        #expect(metrics.body.contains("# TYPE smtp_sidecar_client_connections gauge"))
        _ = try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { try await $0.ping() }
        let after = try PrometheusText(try await Self.get(port: port, "/metrics").body)
        #expect(after.value("smtp_sidecar_requests_total", ["operation": "ping", "result": "ok"]) == 1)
        #expect(try await Self.get(port: port, "/").status == 404)
        _ = try await daemon.stop()
    }
}
