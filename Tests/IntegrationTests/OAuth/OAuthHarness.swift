import Foundation
import SidecarCore
import SidecarProtocol
import SidecarTestSupport

/// The OAuth peers of `scripts/oauth-harness.sh`: a token endpoint (TLS, its own CA) and an
/// aiosmtpd server that takes AUTH OAUTHBEARER and XOAUTH2 only with that endpoint's
/// unexpired tokens. Read from the `oauth.env` it wrote; asked through its control port.
struct OAuthHarness: Sendable {
    let directory: String
    let values: [String: String]
    let maildir: MaildirIndex

    static var script: String { "\(PostfixInstance.repositoryRoot)/scripts/oauth-harness.sh" }

    /// Whether the harness can run here (it installs aiosmtpd from PyPI into a venv).
    static var isAvailable: Bool { TestEnvironment.which("python3") != nil && TestEnvironment.which("openssl") != nil }

    /// Starts a harness in a new directory under /tmp, its tokens living `tokenLifetime`
    /// seconds: an hour unless a test is about expiry (a loaded machine can take longer than
    /// a short lifetime between getting a token and using it).
    static func start(tokenLifetime: Int = 3600) async throws -> OAuthHarness {
        let directory = try TestEnvironment.temporaryDirectory().path
        let outcome = try await ChildProcess.run(
            script, ["start", directory], environment: ["OAUTH_TOKEN_LIFETIME": "\(tokenLifetime)"], timeout: .seconds(300))
        guard outcome.status == 0 else { throw TestEnvironmentError("oauth-harness.sh start failed: \(outcome.summary)") }
        let text = try String(contentsOfFile: "\(directory)/oauth.env", encoding: .utf8)
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            if parts.count == 2 { values[parts[0]] = parts[1].split(separator: " ").first.map(String.init) ?? "" }
        }
        return OAuthHarness(directory: directory, values: values, maildir: MaildirIndex(directory: "\(values["MAILDIR"] ?? "")/new"))
    }

    /// Stops the harness's process and removes its directory.
    func stop() async {
        _ = try? await ChildProcess.run(Self.script, ["stop", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }

    var user: String { values["OAUTH_USER"] ?? "" }
    var smtpCAPEM: String? { values["SMTP_CA_FILE"].flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } }

    /// A new access token for ``user`` from the endpoint's refresh grant, as a client would
    /// get it (the test's own request, not the sidecar's).
    func accessToken() async throws -> String {
        let json = try await python(Self.tokenRequest, [
            values["TOKEN_URL"] ?? "", values["TOKEN_CA_FILE"] ?? "", values["CLIENT_ID"] ?? "",
            values["CLIENT_SECRET"] ?? "", values["REFRESH_TOKEN"] ?? "",
        ])
        guard let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
            let token = object["access_token"] as? String
        else { throw TestEnvironmentError("the token endpoint answered \(json)") }
        return token
    }

    /// The harness's state (counters, tokens, logs), or after a control command.
    func control(_ pathAndQuery: String = "/state") async throws -> [String: Any] {
        let json = try await python(Self.controlRequest, ["\(values["CONTROL_URL"] ?? "")\(pathAndQuery)"])
        guard let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw TestEnvironmentError("the control port answered \(json)")
        }
        return object
    }

    /// AUTH counters of `mechanism` ("OAUTHBEARER", "XOAUTH2"): attempts, successes, failures.
    func auth(_ mechanism: String) async throws -> (attempts: Int, successes: Int, failures: Int) {
        let counters = (try await control()["auth"] as? [String: Any])?[mechanism] as? [String: Any] ?? [:]
        return (counters["attempts"] as? Int ?? 0, counters["successes"] as? Int ?? 0, counters["failures"] as? Int ?? 0)
    }

    /// An inline credential for the harness's SMTP server and ``user`` with `token`.
    func credential(
        token: String, security: CredentialParams.Security = .tls, auth: CredentialParams.AuthMechanism? = nil
    ) -> CredentialParams {
        let port = Int(values[security == .tls ? "TLS_PORT" : "STARTTLS_PORT"] ?? "") ?? 0
        return CredentialParams(
            id: "oauth-harness", host: "localhost", port: port, security: security, username: user,
            accessToken: Secret(token), auth: auth, tls: .init(caPEM: smtpCAPEM))
    }

    private func python(_ program: String, _ arguments: [String]) async throws -> String {
        let outcome = try await ChildProcess.run("/usr/bin/python3", ["-c", program] + arguments, timeout: .seconds(60))
        guard outcome.status == 0 else { throw TestEnvironmentError("python3 failed: \(outcome.summary)") }
        return outcome.stdout
    }

    private static let tokenRequest = """
        import ssl, sys, urllib.parse, urllib.request
        url, ca, client, secret, refresh = sys.argv[1:6]
        body = urllib.parse.urlencode({"grant_type": "refresh_token", "client_id": client, "client_secret": secret,
                                       "refresh_token": refresh, "scope": "https://mail.google.com/"}).encode()
        context = ssl.create_default_context(cafile=ca)
        print(urllib.request.urlopen(urllib.request.Request(url, data=body), context=context, timeout=30).read().decode())
        """

    private static let controlRequest = """
        import sys, urllib.request
        print(urllib.request.urlopen(sys.argv[1], timeout=30).read().decode())
        """
}
