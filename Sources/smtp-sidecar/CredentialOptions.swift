import ArgumentParser
import FoundationEssentials
import SidecarCore
import SidecarProtocol

/// The credential flags of `send` and `verify`. The password is read from an environment
/// variable or a file, never from the command line (where `ps` and the journal's
/// `_CMDLINE` would show it).
struct CredentialOptions: ParsableArguments {
    @Option(help: "Workspace the request runs in.")
    var workspace: String = "cli"

    @Option(help: "A credential stored in the daemon (`credentials add`) instead of the flags below.")
    var credentialID: String?

    @Option(help: "SMTP server host name.")
    var host: String?

    @Option(help: "SMTP server port (default 465 for --security tls, else 587).")
    var port: Int?

    @Option(help: "tls (implicit TLS), starttls (required) or none.")
    var security: CredentialParams.Security?

    @Option(help: "SMTP username.")
    var username: String?

    @Option(help: "Environment variable holding the password.")
    var passwordEnv: String = "SMTP_PASSWORD"

    @Option(help: "File holding the password (first line).")
    var passwordFile: String?

    @Option(help: "Environment variable holding an OAuth 2 access token (OAUTHBEARER or XOAUTH2) instead of a password.")
    var tokenEnv: String?

    @Option(help: "auto, plain, login, xoauth2, oauthbearer or none.")
    var auth: CredentialParams.AuthMechanism?

    @Option(help: "PEM file of extra trusted CA certificates.")
    var caFile: String?

    @Flag(help: "Accept self-signed or mismatched certificates (a security trade-off).")
    var acceptUnverified = false

    @Option(help: "Minimum TLS version: 1.2 or 1.3.")
    var tlsMin: CredentialParams.TLSOptions.MinimumVersion?

    @Option(help: "EHLO name.")
    var clientName: String?

    @Flag(help: "Never use PIPELINING with this server, even when offered.")
    var noPipelining = false

    @Flag(help: "Never use CHUNKING (BDAT) with this server, even when offered.")
    var noChunking = false

    @Option(help: "Close a pooled connection after this many messages (default: the daemon's, 10 for Exim).")
    var maxMessagesPerConnection: Int?

    @Option(help: "Overall timeout in milliseconds.")
    var timeoutMs: Int?

    /// The credential, or nil when no --host is given (a --json request carries its own).
    func credential() throws -> CredentialParams? {
        guard let host else { return nil }
        var password: Secret?
        if let passwordFile {
            let text = try String(contentsOfFile: passwordFile, encoding: .utf8)
            password = Secret(String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? ""))
        } else if let value = ProcessInfo.processInfo.environment[passwordEnv], !value.isEmpty {
            password = Secret(value)
        }
        let token = tokenEnv.flatMap { ProcessInfo.processInfo.environment[$0] }.map(Secret.init)
        var tls: CredentialParams.TLSOptions?
        if caFile != nil || acceptUnverified || tlsMin != nil {
            tls = CredentialParams.TLSOptions(
                minVersion: tlsMin, acceptUnverified: acceptUnverified ? true : nil,
                caPEM: try caFile.map { try String(contentsOfFile: $0, encoding: .utf8) })
        }
        return CredentialParams(
            host: host, port: port, security: security, username: username, password: password, accessToken: token,
            auth: auth, tls: tls, clientName: clientName, pipelining: noPipelining ? false : nil,
            chunking: noChunking ? false : nil, maxMessagesPerConnection: maxMessagesPerConnection)
    }
}

extension CredentialParams.Security: ExpressibleByArgument {}
extension CredentialParams.AuthMechanism: ExpressibleByArgument {}
extension CredentialParams.TLSOptions.MinimumVersion: ExpressibleByArgument {}
extension SendParams.BodyFormat: ExpressibleByArgument {}
extension SendParams.Priority: ExpressibleByArgument {}
