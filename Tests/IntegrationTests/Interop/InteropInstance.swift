import Foundation
import SidecarCore
import SidecarProtocol
import SidecarTestSupport

/// One server started by `scripts/interop-harness.sh start NAME DIR`, read from the
/// `server.env` it wrote.
struct InteropInstance: Sendable {
    let server: InteropServer
    let directory: String
    let values: [String: String]
    let maildir: MaildirIndex

    static var script: String { "\(PostfixInstance.repositoryRoot)/scripts/interop-harness.sh" }

    /// Starts `server` in a new directory under /tmp.
    static func start(_ server: InteropServer) async throws -> InteropInstance {
        let directory = try TestEnvironment.temporaryDirectory().path
        try await run(["start", server.rawValue, directory])
        let text = try String(contentsOfFile: "\(directory)/server.env", encoding: .utf8)
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            if parts.count == 2 { values[parts[0]] = parts[1] }
        }
        return InteropInstance(
            server: server, directory: directory, values: values,
            maildir: MaildirIndex(directory: "\(values["MAILDIR"] ?? directory + "/maildir")/new"))
    }

    /// Stops every process of the server and removes its directory.
    func stop() async {
        _ = try? await Self.run(["stop", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Stops every process of the server, its sessions included (as systemd restarting a
    /// unit does), and starts it again on the same ports with the same Maildir.
    func restart() async throws {
        try await Self.run(["restart", directory])
    }

    /// The port of the listener for `security`.
    func port(_ security: CredentialParams.Security) -> Int {
        let key =
            switch security {
            case .starttls: "STARTTLS_PORT"
            case .tls: "TLS_PORT"
            case .none: "PLAIN_PORT"
            }
        // A server without that listener (OpenSMTPD has no TLS) is asked on its plaintext port.
        return Int(values[key] ?? "") ?? Int(values["PLAIN_PORT"] ?? "") ?? 0
    }

    var user: String { values["SMTP_USER"] ?? "" }
    var password: String { values["SMTP_PASSWORD"] ?? "" }
    var caPEM: String? {
        guard let file = values["SMTP_CA_FILE"], !file.isEmpty else { return nil }
        return try? String(contentsOfFile: file, encoding: .utf8)
    }

    /// The server's own log (its mail log, or what it printed).
    var log: String {
        (try? String(contentsOfFile: values["LOG"] ?? "", encoding: .utf8)) ?? ""
    }

    /// A credential for this server: the harness's user and password over `security` (the
    /// server's primary mode by default), trusting the harness's CA. With `security`
    /// `none` there is no AUTH (OpenSMTPD, which has no TLS and so no AUTH); a TLS mode
    /// asked of it gets a password that no server knows.
    func credential(
        _ security: CredentialParams.Security? = nil, password: String? = nil, auth: CredentialParams.AuthMechanism? = nil,
        chunking: Bool? = nil, id: String = "interop"
    ) -> CredentialParams {
        let security = security ?? server.primarySecurity
        let authenticated = security != .none
        let password = password ?? (self.password.isEmpty ? "no-auth-without-tls" : self.password)
        return CredentialParams(
            id: "\(id)-\(server.rawValue)", host: "localhost", port: port(security), security: security,
            username: authenticated ? (user.isEmpty ? "sender@example.test" : user) : nil,
            password: authenticated ? Secret(password) : nil,
            auth: authenticated ? auth : CredentialParams.AuthMechanism.none,
            tls: caPEM.map { CredentialParams.TLSOptions(caPEM: $0) }, chunking: chunking)
    }

    /// The messages delivered so far that carry `token`.
    func deliveries(token: String) throws -> [InteropDelivery] {
        try maildir.deliveries(token: token)
    }

    /// Waits until at least `count` messages carrying `token` are delivered, for at most
    /// `timeout` (generous: a loaded two-core machine may be slow, and a server that
    /// queues a message instead of delivering it never delivers it here).
    func waitForDeliveries(token: String, count: Int, timeout: Duration = .seconds(90)) async throws -> [InteropDelivery] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let found = try deliveries(token: token)
            if found.count >= count { return found }
            if ContinuousClock.now >= deadline {
                throw TestEnvironmentError(
                    "\(server): \(found.count) of \(count) message(s) with token \(token) delivered after \(timeout); "
                        + "log tail:\n\(log.split(separator: "\n").suffix(30).joined(separator: "\n"))")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    @discardableResult
    static func run(_ arguments: [String]) async throws -> String {
        let outcome = try await ChildProcess.run(script, arguments, timeout: .seconds(180))
        guard outcome.status == 0 else {
            throw TestEnvironmentError("interop-harness.sh \(arguments.joined(separator: " ")) failed: \(outcome.summary)")
        }
        return outcome.stdout
    }
}
