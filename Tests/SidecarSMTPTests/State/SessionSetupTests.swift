import SidecarCore
import Testing

@testable import SidecarSMTP

/// Greeting, TLS modes, EHLO/HELO and AUTH, driven synchronously.
@Suite struct SessionSetupTests {
    typealias F = Fixtures

    @Test func implicitTLSWaitsForTheHandshakeThenGreetsAndAuthenticatesWithPlain() {
        var machine = F.machine(.implicitTLS, credentials: F.credentials)
        #expect(machine.channelActive() == .armTimer(machine.timer(.tlsHandshake)))
        #expect(machine.phase == .tls)
        #expect(machine.tlsHandshakeCompleted() == .armTimer(machine.timer(.greeting)))
        #expect(machine.isSecure)
        #expect(machine.replyReceived(F.reply(220, "mx ESMTP")) == .send([.ehlo("client.test")], arm: machine.timer(.ehlo)))
        let auth = machine.replyReceived(F.ehlo(["AUTH LOGIN PLAIN"]))
        let payload = Secret(F.base64("\0user@example.com\0pa55-word!"))
        #expect(auth == .send([.auth(.plain, initialResponse: payload)], arm: machine.timer(.auth)))
        #expect(auth.commands.map(\.description) == ["AUTH PLAIN <redacted>"])
        let done = machine.replyReceived(F.reply(235, "2.7.0 Authentication successful"))
        guard case .complete(.connected(let capabilities)) = done else {
            Issue.record("not connected: \(done)")
            return
        }
        #expect(capabilities.authMechanisms == ["LOGIN", "PLAIN"])
        #expect(machine.isUsable)
    }

    @Test func startTLSUpgradesThenForgetsAndRepeatsEHLO() {
        var machine = F.machine(.startTLS, credentials: F.credentials)
        #expect(machine.channelActive() == .armTimer(machine.timer(.greeting)))
        _ = machine.replyReceived(F.reply(220))
        // Before TLS: no AUTH offered (as Postfix does), STARTTLS offered.
        #expect(machine.replyReceived(F.ehlo(["STARTTLS", "PIPELINING"])) == .send([.startTLS], arm: machine.timer(.startTLS)))
        #expect(machine.replyReceived(F.reply(220, "2.0.0 Ready to start TLS")) == .startTLS(arm: machine.timer(.tlsHandshake)))
        #expect(!machine.isSecure)
        #expect(machine.tlsHandshakeCompleted() == .send([.ehlo("client.test")], arm: machine.timer(.ehlo)))
        #expect(machine.isSecure)
        #expect(machine.capabilities == nil, "pre-TLS capabilities are discarded")
        let auth = machine.replyReceived(F.ehlo(["AUTH PLAIN LOGIN", "SIZE 2000"]))
        #expect(auth.commands.first?.description == "AUTH PLAIN <redacted>")
        #expect(machine.replyReceived(F.reply(235)) == .complete(.connected(machine.capabilities!)))
        #expect(machine.capabilities?.maximumMessageSize == 2000)
        #expect(machine.capabilities?.startTLS == false)
    }

    @Test func startTLSRequiredButNotOfferedFailsWithoutAuthenticating() {
        var machine = F.machine(.startTLS, credentials: F.credentials)
        _ = machine.channelActive()
        _ = machine.replyReceived(F.reply(220))
        let action = machine.replyReceived(F.ehlo(["AUTH PLAIN LOGIN", "PIPELINING"]))
        #expect(action.isClose)
        #expect(action.commands.isEmpty)
        #expect(action == .close(action.closeCompletion, sendQuit: true))
        #expect(action.connectFailure?.error.code == .starttlsUnavailable)
        #expect(action.connectFailure?.phase == .tls)
        #expect(!machine.isUsable)
    }

    @Test func startTLSRefusedIsStartTLSUnavailable() {
        var machine = F.machine(.startTLS)
        _ = machine.channelActive()
        _ = machine.replyReceived(F.reply(220))
        _ = machine.replyReceived(F.ehlo(["STARTTLS"]))
        let action = machine.replyReceived(F.reply(454, "4.7.0 TLS not available due to local problem"))
        #expect(action.connectFailure?.error.code == .starttlsUnavailable)
        #expect(action.connectFailure?.error.smtp?.code == 454)
    }

    @Test func plaintextInjectedAfterSTARTTLSReplyIsRefused() {
        var machine = F.machine(.startTLS, credentials: F.credentials)
        _ = machine.channelActive()
        _ = machine.replyReceived(F.reply(220))
        _ = machine.replyReceived(F.ehlo(["STARTTLS"]))
        #expect(machine.replyReceived(F.reply(220, "go ahead")) == .startTLS(arm: machine.timer(.tlsHandshake)))
        // The shell found bytes after the 220 in its buffer.
        let action = machine.plaintextReceivedBeforeTLS()
        #expect(action.connectFailure?.error.code == .starttlsUnavailable)
        #expect(action.connectFailure?.error.message.contains("unencrypted data") == true)
        #expect(machine.tlsHandshakeCompleted() == .none, "a handshake after the refusal changes nothing")
    }

    @Test func aReplyBeforeTheSTARTTLSHandshakeCompletesIsRefused() {
        var machine = F.machine(.startTLS)
        _ = machine.channelActive()
        _ = machine.replyReceived(F.reply(220))
        _ = machine.replyReceived(F.ehlo(["STARTTLS"]))
        _ = machine.replyReceived(F.reply(220))
        let action = machine.replyReceived(F.ehlo(["AUTH PLAIN"]))
        #expect(action.connectFailure?.error.code == .starttlsUnavailable)
    }

    @Test func plaintextModeRefusesToSendAPasswordUnlessAllowed() {
        var refusing = F.machine(.plaintext, credentials: F.credentials)
        _ = refusing.channelActive()
        _ = refusing.replyReceived(F.reply(220))
        let refused = refusing.replyReceived(F.ehlo(["AUTH PLAIN"]))
        #expect(refused.commands.isEmpty)
        #expect(refused.connectFailure?.error.code == .authFailed)
        #expect(refused.connectFailure?.phase == .auth)

        var allowing = F.machine(.plaintext, credentials: F.credentials, allowsPlaintextAuthentication: true)
        _ = allowing.channelActive()
        _ = allowing.replyReceived(F.reply(220))
        #expect(allowing.replyReceived(F.ehlo(["AUTH PLAIN"])).commands.first?.description == "AUTH PLAIN <redacted>")
    }

    @Test func plaintextModeWithoutCredentialsIsReadyAfterEHLO() {
        let machine = F.ready(["PIPELINING"])
        #expect(machine.isUsable)
        #expect(!machine.isSecure)
        #expect(machine.capabilities?.pipelining == true)
    }

    @Test func authLoginSendsUsernameThenPasswordAsContinuations() {
        var machine = F.machine(.implicitTLS, credentials: F.credentials)
        _ = machine.channelActive()
        _ = machine.tlsHandshakeCompleted()
        _ = machine.replyReceived(F.reply(220))
        #expect(machine.replyReceived(F.ehlo(["AUTH LOGIN"])) == .send([.auth(.login, initialResponse: nil)], arm: machine.timer(.auth)))
        let user = machine.replyReceived(F.reply(334, "VXNlcm5hbWU6"))
        #expect(user == .send([.authResponse(Secret(F.base64("user@example.com")))], arm: machine.timer(.auth)))
        let password = machine.replyReceived(F.reply(334, "UGFzc3dvcmQ6"))
        #expect(password == .send([.authResponse(Secret(F.base64("pa55-word!")))], arm: machine.timer(.auth)))
        #expect(password.commands.map(\.description) == ["<redacted>"])
        guard case .complete(.connected) = machine.replyReceived(F.reply(235)) else {
            Issue.record("not connected")
            return
        }
    }

    @Test func forcedMechanismIsUsedEvenIfNotPreferred() {
        var machine = F.machine(.implicitTLS, credentials: .password("u", F.password, mechanism: .login))
        _ = machine.channelActive()
        _ = machine.tlsHandshakeCompleted()
        _ = machine.replyReceived(F.reply(220))
        #expect(machine.replyReceived(F.ehlo(["AUTH PLAIN LOGIN"])).commands == [.auth(.login, initialResponse: nil)])
    }

    @Test func xoauth2SendsTheBearerTokenAndHandlesTheErrorChallenge() {
        var machine = F.machine(.implicitTLS, credentials: .oauth2("user@example.com", token: F.token))
        _ = machine.channelActive()
        _ = machine.tlsHandshakeCompleted()
        _ = machine.replyReceived(F.reply(220))
        let payload = Secret(F.base64("user=user@example.com\u{1}auth=Bearer ya29.token-value\u{1}\u{1}"))
        let auth = machine.replyReceived(F.ehlo(["AUTH PLAIN LOGIN XOAUTH2"]))
        #expect(auth.commands == [.auth(.xoauth2, initialResponse: payload)])
        #expect(auth.commands.map(\.description) == ["AUTH XOAUTH2 <redacted>"])
        // Gmail's error: a 334 with base64 JSON; the client answers with an empty line.
        let empty = machine.replyReceived(F.reply(334, "eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIn0="))
        #expect(empty.commands == [.authResponse(Secret(""))])
        let failed = machine.replyReceived(F.reply(535, "5.7.8 Username and Password not accepted"))
        #expect(failed.connectFailure?.error.code == .authFailed)
        #expect(failed.connectFailure?.error.message.contains("access token") == true)
    }

    @Test func oauthbearerSendsTheGS2HeaderHostPortAndToken() {
        var machine = SMTPClientStateMachine(configuration: .init(
            security: .implicitTLS, credentials: .oauth2("a,b=c@example.com", token: F.token, mechanism: nil),
            timeouts: F.timeouts, host: "smtp.example.com", port: 465))
        _ = machine.channelActive()
        _ = machine.tlsHandshakeCompleted()
        _ = machine.replyReceived(F.reply(220))
        // RFC 7628 §3.1, with the user escaped as an RFC 5801 saslname.
        let payload = Secret(F.base64(
            "n,a=a=2Cb=3Dc@example.com,\u{1}host=smtp.example.com\u{1}port=465\u{1}auth=Bearer ya29.token-value\u{1}\u{1}"))
        let auth = machine.replyReceived(F.ehlo(["AUTH PLAIN XOAUTH2 OAUTHBEARER"]))
        #expect(auth.commands == [.auth(.oauthbearer, initialResponse: payload)])
        #expect(auth.commands.map(\.description) == ["AUTH OAUTHBEARER <redacted>"])
        guard case .complete(.connected) = machine.replyReceived(F.reply(235, "2.7.0 Accepted")) else {
            Issue.record("not connected")
            return
        }
    }

    /// RFC 7628 §3.2.2-3: the error is a 334 with base64 JSON; the client answers with a lone
    /// ^A, the server then fails the exchange. Its status reaches the message.
    @Test func oauthbearerAnswersTheErrorChallengeWithControlA() {
        var machine = F.machine(.implicitTLS, credentials: .oauth2("user@example.com", token: F.token, mechanism: nil))
        _ = machine.channelActive()
        _ = machine.tlsHandshakeCompleted()
        _ = machine.replyReceived(F.reply(220))
        #expect(machine.replyReceived(F.ehlo(["AUTH OAUTHBEARER"])).commands.first.map(\.description) == "AUTH OAUTHBEARER <redacted>")
        let challenge = F.base64(#"{"status":"invalid_token","scope":"https://mail.google.com/"}"#)
        let answer = machine.replyReceived(F.reply(334, challenge))
        #expect(answer.commands == [.authResponse(Secret("AQ=="))])
        let failed = machine.replyReceived(F.reply(535, "5.7.8 Authentication failed"))
        #expect(failed.connectFailure?.error.code == .authFailed)
        #expect(failed.connectFailure?.phase == .auth)
        #expect(failed.connectFailure?.error.message.contains(#"the token's status is "invalid_token""#) == true)
    }

    /// A token with `auth: auto` takes OAUTHBEARER when offered, else XOAUTH2.
    @Test(arguments: [
        (["AUTH PLAIN XOAUTH2 OAUTHBEARER"], SMTPAuthMechanism.oauthbearer),
        (["AUTH PLAIN XOAUTH2"], .xoauth2),
        (["AUTH OAUTHBEARER"], .oauthbearer),
    ])
    func aTokenTakesTheOAuthMechanismTheServerOffers(keywords: [String], expected: SMTPAuthMechanism) {
        var machine = F.machine(.implicitTLS, credentials: .oauth2("u@example.com", token: F.token, mechanism: nil))
        _ = machine.channelActive()
        _ = machine.tlsHandshakeCompleted()
        _ = machine.replyReceived(F.reply(220))
        guard case .auth(let mechanism, _) = machine.replyReceived(F.ehlo(keywords)).commands.first else {
            Issue.record("no AUTH")
            return
        }
        #expect(mechanism == expected)
    }

    @Test(arguments: [
        (#"{"status":"401","schemes":"Bearer","scope":"https://mail.google.com/"}"#, "401"),
        (#"{"scope":"x", "status" : "invalid_token"}"#, "invalid_token"),
        (#"{"status":"<script>\r\nRCPT"}"#, "scriptrnRCPT"),
        (#"{"schemes":"Bearer"}"#, nil),
    ])
    func theOAuthErrorStatusIsReadAndTamed(json: String, status: String?) {
        #expect(SMTPAuthExchange.oauthStatus(challenge: F.base64(json)) == status)
    }

    @Test func theOAuthErrorStatusOfNonBase64IsNothing() {
        #expect(SMTPAuthExchange.oauthStatus(challenge: "not base64!") == nil)
    }

    @Test(arguments: ["", "f", "fo", "foo", "foob", "fooba", "foobar", "\u{1}"])
    func base64DecodingInvertsEncoding(text: String) {
        let bytes = Array(text.utf8)
        #expect(SMTPAuthExchange.base64Decoded(SMTPAuthExchange.base64(bytes)) == bytes)
    }

    @Test func tokenWithoutXOAUTH2OnTheServerFails() {
        var machine = F.machine(.implicitTLS, credentials: SMTPCredentials(username: "u", authenticator: .oauth2Token(F.token)))
        _ = machine.channelActive()
        _ = machine.tlsHandshakeCompleted()
        _ = machine.replyReceived(F.reply(220))
        let action = machine.replyReceived(F.ehlo(["AUTH PLAIN LOGIN"]))
        #expect(action.connectFailure?.error.code == .authFailed)
        #expect(action.connectFailure?.error.message.contains("offers only PLAIN, LOGIN") == true)
    }

    @Test(arguments: [(535, false), (454, true), (534, false)])
    func authRefusalIsAuthFailedWithTheServersReply(code: Int, retryable: Bool) {
        var machine = F.machine(.implicitTLS, credentials: F.credentials)
        _ = machine.channelActive()
        _ = machine.tlsHandshakeCompleted()
        _ = machine.replyReceived(F.reply(220))
        _ = machine.replyReceived(F.ehlo(["AUTH PLAIN"]))
        let enhanced = code == 454 ? "4.7.0" : "5.7.8"
        let action = machine.replyReceived(F.reply(code, "\(enhanced) Error: authentication failed"))
        let error = action.connectFailure?.error
        #expect(error?.code == .authFailed)
        #expect(error?.retryable == retryable)
        #expect(error?.smtp == SMTPReply(code: code, enhancedCode: enhanced, text: "Error: authentication failed"))
        #expect(action.connectFailure?.phase == .auth)
        if code == 535 {
            #expect(error?.message == "The server refused the username or password (535 5.7.8 Error: authentication failed). "
                + "For Gmail or Microsoft 365, use an App Password; for SendGrid the username is apikey.")
        }
    }

    @Test func anAuthReplyEchoingTheCredentialsIsScrubbed() {
        var machine = F.machine(.implicitTLS, credentials: F.credentials)
        _ = machine.channelActive()
        _ = machine.tlsHandshakeCompleted()
        _ = machine.replyReceived(F.reply(220))
        _ = machine.replyReceived(F.ehlo(["AUTH PLAIN"]))
        let payload = F.base64("\0user@example.com\0pa55-word!")
        let echo = F.reply(501, "5.5.2 cannot decode \(payload) for pa55-word!")
        #expect(!machine.loggable(echo).lines.joined().contains("pa55-word!"))
        let action = machine.replyReceived(echo)
        let error = action.connectFailure!.error
        #expect(!error.message.contains(payload) && !error.message.contains("pa55-word!"))
        #expect(!"\(error)".contains(payload))
    }

    /// A password that starts with a combining mark merges with the space before it into
    /// one displayed character when a server echoes it; redaction matches bytes, not
    /// `Character`s, so it is still found. (Checks compare UTF-8 bytes for the same reason:
    /// `String.contains` would miss the leak it is looking for.)
    @Test(arguments: [
        "\u{301}pa55-word", "\u{301}", "a\u{301}", "\u{1F469}\u{200D}x", "\u{301}\u{302}z",
    ])
    func anEchoedPasswordStartingWithACombiningMarkIsScrubbed(password: String) {
        var machine = F.machine(.implicitTLS, credentials: .password("user@example.com", Secret(password), mechanism: .plain))
        _ = machine.channelActive()
        _ = machine.tlsHandshakeCompleted()
        _ = machine.replyReceived(F.reply(220))
        _ = machine.replyReceived(F.ehlo(["AUTH PLAIN"]))
        let echo = F.reply(535, "5.7.8 authentication failed for \(password) and \(password)")
        func leaks(_ text: String) -> Bool {
            let bytes = Array(text.utf8), needle = Array(password.utf8)
            guard bytes.count >= needle.count else { return false }
            return (0...(bytes.count - needle.count)).contains { bytes[$0..<$0 + needle.count].elementsEqual(needle) }
        }
        #expect(leaks(echo.lines.joined()))
        #expect(!leaks(machine.loggable(echo).lines.joined()))
        let error = machine.replyReceived(echo).connectFailure!.error
        #expect(!leaks(error.message))
        #expect(!leaks(error.smtp?.text ?? ""))
        #expect(error.smtp?.text == "authentication failed for <redacted> and <redacted>")
    }

    @Test func ehloRefusedFallsBackToHELO() {
        var machine = F.machine(.plaintext)
        _ = machine.channelActive()
        _ = machine.replyReceived(F.reply(220))
        #expect(machine.replyReceived(F.reply(502, "5.5.2 Error: command not recognized")) == .send([.helo("client.test")], arm: machine.timer(.ehlo)))
        guard case .complete(.connected(let capabilities)) = machine.replyReceived(F.reply(250, "mx.example.com")) else {
            Issue.record("not connected after HELO")
            return
        }
        #expect(capabilities == SMTPCapabilities(serverName: "mx.example.com"))
    }

    @Test func heloFallbackCannotSatisfyRequiredSTARTTLS() {
        var machine = F.machine(.startTLS, credentials: F.credentials)
        _ = machine.channelActive()
        _ = machine.replyReceived(F.reply(220))
        _ = machine.replyReceived(F.reply(500))
        #expect(machine.replyReceived(F.reply(250, "old.example")).connectFailure?.error.code == .starttlsUnavailable)
    }

    @Test(arguments: [(554, false), (421, true), (450, true)])
    func greetingRefusalIsConnectionFailed(code: Int, retryable: Bool) {
        var machine = F.machine(.plaintext)
        _ = machine.channelActive()
        let failure = machine.replyReceived(F.reply(code, "go away")).connectFailure
        #expect(failure?.error.code == .connectionFailed)
        #expect(failure?.error.retryable == retryable)
        #expect(failure?.phase == .greeting)
    }

    @Test func aThreeDigitCodeOutsideTheExpectedClassIsAProtocolError() {
        var machine = F.machine(.plaintext)
        _ = machine.channelActive()
        #expect(machine.replyReceived(F.reply(354, "what")).connectFailure?.error.code == .protocolViolation)
    }
}
