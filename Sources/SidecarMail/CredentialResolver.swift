import FoundationEssentials
import SidecarCore
import SidecarMessage
import SidecarProtocol
import SidecarSMTP

/// Turns the credential of a request into an SMTP configuration, or an `invalid_params`
/// error naming the field. Pure.
struct CredentialResolver: Sendable {
    var settings: MailSettings

    /// - Parameters:
    ///   - prefix: the JSON path of the credential in the request (`params.credential`).
    ///   - tokensFromEndpoint: a stored OAuth credential: its connections authenticate with
    ///     tokens from its token endpoint, so the configuration has no credentials of its own
    ///     (it needs the mailbox's username).
    func configuration(
        for credential: CredentialParams, prefix: String = "params.credential", tokensFromEndpoint: Bool = false
    ) throws(SidecarError) -> SMTPConfiguration {
        let host = credential.host.trimmingWhitespace()
        guard !host.isEmpty, !host.contains(where: { $0 == "\r" || $0 == "\n" || $0 == " " }) else {
            throw invalid("The SMTP host is empty or contains spaces or line breaks.", "\(prefix).host")
        }
        let requestedSecurity = credential.security.map(Self.mode)
        let port = credential.port ?? (requestedSecurity == .implicitTLS ? 465 : 587)
        guard (1...65535).contains(port) else {
            throw invalid("The port must be between 1 and 65535.", "\(prefix).port")
        }
        guard port != 25 else {
            throw SidecarError(
                code: .port25Blocked,
                message: "Port 25 is for server-to-server relay and is blocked. Use 587 (STARTTLS) or 465 (TLS).",
                field: "\(prefix).port")
        }
        var tls = SMTPTLSSettings()
        if let options = credential.tls {
            tls.minimumVersion = options.minVersion == .tls13 ? .tls13 : .tls12
            tls.acceptUnverifiedCertificates = options.acceptUnverified ?? false
            tls.additionalCAPEM = options.caPEM
            tls.serverName = options.serverName
        }
        let security = SMTPSecurityMode.resolved(requestedSecurity, port: port)
        return SMTPConfiguration(
            host: host, port: port, security: security, tls: tls,
            credentials: tokensFromEndpoint ? try tokenUser(credential, prefix: prefix) : try credentials(credential, prefix: prefix),
            clientName: credential.clientName ?? settings.clientName, timeouts: settings.timeouts,
            // `security: none` is an explicit choice for a legacy relay: AUTH without TLS is
            // then what the user asked for. Otherwise a password never travels in plaintext.
            allowsPlaintextAuthentication: security == .plaintext,
            extensions: SMTPExtensionUse(pipelining: credential.pipelining ?? true, chunking: credential.chunking ?? true),
            maximumMessagesPerSession: credential.maxMessagesPerConnection)
    }

    private func credentials(_ credential: CredentialParams, prefix: String) throws(SidecarError) -> SMTPCredentials? {
        let mechanism = credential.auth ?? .auto
        if mechanism == .none { return nil }
        let username = credential.username ?? ""
        if let token = credential.accessToken, !token.isEmpty {
            guard !username.isEmpty else {
                throw invalid("An OAuth access token needs the mailbox's address as the username.", "\(prefix).username")
            }
            switch mechanism {
            case .auto: return .oauth2(username, token: token, mechanism: nil)
            case .xoauth2: return .oauth2(username, token: token, mechanism: .xoauth2)
            case .oauthbearer: return .oauth2(username, token: token, mechanism: .oauthbearer)
            case .plain, .login, .none:
                throw invalid(
                    "An access token is used with OAUTHBEARER or XOAUTH2 only; remove \"auth\" or set it to one of them.",
                    "\(prefix).auth")
            }
        }
        guard let password = credential.password, !password.isEmpty else {
            if credential.username == nil && mechanism == .auto { return nil }
            throw invalid("The credential has no password (or access_token).", "\(prefix).password")
        }
        guard !username.isEmpty else {
            throw invalid("The credential has a password but no username.", "\(prefix).username")
        }
        switch mechanism {
        case .auto: return .password(username, password)
        case .plain: return .password(username, password, mechanism: .plain)
        case .login: return .password(username, password, mechanism: .login)
        case .xoauth2, .oauthbearer:
            throw invalid("\(mechanism.rawValue.uppercased()) needs an access_token, not a password.", "\(prefix).access_token")
        case .none: return nil
        }
    }

    /// A stored OAuth credential must name its mailbox; its credentials come per connection.
    private func tokenUser(_ credential: CredentialParams, prefix: String) throws(SidecarError) -> SMTPCredentials? {
        guard let username = credential.username, !username.isEmpty else {
            throw invalid("An OAuth credential needs the mailbox's address as the username.", "\(prefix).username")
        }
        return nil
    }

    static func mode(_ security: CredentialParams.Security) -> SMTPSecurityMode {
        switch security {
        case .tls: .implicitTLS
        case .starttls: .startTLS
        case .none: .plaintext
        }
    }

    private func invalid(_ message: String, _ field: String) -> SidecarError {
        SidecarError(code: .invalidParams, message: message, field: field)
    }
}
