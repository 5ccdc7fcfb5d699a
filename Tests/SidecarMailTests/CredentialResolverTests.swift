import SidecarCore
import SidecarProtocol
import SidecarSMTP
import Testing

@testable import SidecarMail

@Suite struct CredentialResolverTests {
    let resolver = CredentialResolver(settings: MailSettings(clientName: "worker.example.com"))

    @Test(arguments: [
        (CredentialParams.Security?.none, Int?.none, SMTPSecurityMode.startTLS, 587),
        (.tls, nil, .implicitTLS, 465),
        (nil, 465, .implicitTLS, 465),
        (nil, 2525, .startTLS, 2525),
        (.starttls, 465, .startTLS, 465),
        (CredentialParams.Security.none, 2525, .plaintext, 2525),
    ])
    func securityAndPortDefaults(
        security: CredentialParams.Security?, port: Int?, expectedMode: SMTPSecurityMode, expectedPort: Int
    ) throws {
        let configuration = try resolver.configuration(for: CredentialParams(
            host: "smtp.example.com", port: port, security: security, username: "u", password: Secret("p")))
        #expect(configuration.resolvedSecurity == expectedMode)
        #expect(configuration.port == expectedPort)
        #expect(configuration.clientName == "worker.example.com")
        // Only an explicit `none` lets a password travel without TLS.
        #expect(configuration.allowsPlaintextAuthentication == (expectedMode == .plaintext))
    }

    @Test(arguments: [
        ("smtp.example.com", "smtp.example.com"), (" smtp.example.com", "smtp.example.com"),
        ("smtp.example.com \t", "smtp.example.com"), ("\t é.example ", "é.example"), ("   ", ""), ("", ""),
    ])
    func blanksAroundAPastedHostAreTrimmed(host: String, expected: String) throws {
        let credential = CredentialParams(host: host, username: "u", password: Secret("p"))
        guard !expected.isEmpty else {
            #expect(throws: SidecarError.self) { try resolver.configuration(for: credential) }
            return
        }
        #expect(try resolver.configuration(for: credential).host == expected)
    }

    @Test func mechanismsFollowTheCredential() throws {
        let token = try resolver.configuration(for: CredentialParams(
            host: "smtp.gmail.com", username: "me@gmail.com", accessToken: Secret("ya29.token")))
        // auto: OAUTHBEARER or XOAUTH2, whichever the server offers.
        #expect(token.credentials?.mechanism == nil)
        for mechanism in [CredentialParams.AuthMechanism.xoauth2, .oauthbearer] {
            let forced = try resolver.configuration(for: CredentialParams(
                host: "smtp.gmail.com", username: "me@gmail.com", accessToken: Secret("ya29.token"), auth: mechanism))
            #expect(forced.credentials?.mechanism?.rawValue == mechanism.rawValue.uppercased())
        }
        let login = try resolver.configuration(for: CredentialParams(
            host: "h", username: "u", password: Secret("p"), auth: .login))
        #expect(login.credentials?.mechanism == .login)
        let anonymous = try resolver.configuration(for: CredentialParams(host: "relay.corp", auth: CredentialParams.AuthMechanism.none))
        #expect(anonymous.credentials == nil)
        let tls = try resolver.configuration(for: CredentialParams(
            host: "h", username: "u", password: Secret("p"),
            tls: .init(minVersion: .tls13, acceptUnverified: true, caPEM: "PEM", serverName: "mail.corp")))
        #expect(tls.tls.minimumVersion == .tls13 && tls.tls.acceptUnverifiedCertificates && tls.tls.serverName == "mail.corp")
    }

    @Test(arguments: [
        (CredentialParams(host: " "), "params.credential.host"),
        (CredentialParams(host: "h\r\nRCPT TO:<x@y>"), "params.credential.host"),
        (CredentialParams(host: "h", port: 70000), "params.credential.port"),
        (CredentialParams(host: "h", username: "u"), "params.credential.password"),
        (CredentialParams(host: "h", password: Secret("p")), "params.credential.username"),
        (CredentialParams(host: "h", username: "u", password: Secret("p"), auth: .xoauth2), "params.credential.access_token"),
        (CredentialParams(host: "h", username: "u", password: Secret("p"), auth: .oauthbearer), "params.credential.access_token"),
        (CredentialParams(host: "h", accessToken: Secret("t")), "params.credential.username"),
        (CredentialParams(host: "h", username: "u", accessToken: Secret("t"), auth: .plain), "params.credential.auth"),
    ])
    func badCredentialsNameTheField(credential: CredentialParams, field: String) {
        #expect {
            _ = try resolver.configuration(for: credential)
        } throws: { error in
            (error as? SidecarError)?.code == .invalidParams && (error as? SidecarError)?.field == field
        }
    }
}
