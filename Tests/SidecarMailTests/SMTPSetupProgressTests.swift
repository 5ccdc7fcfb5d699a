@testable import SidecarMail
import SidecarSMTP
import Testing

/// The phase a pooled send names when its deadline passes while the pool opens a
/// connection for it.
@Suite struct SMTPSetupProgressTests {
    let key = Self.key(host: "mail.example.com")

    static func key(host: String) -> SMTPPoolKey {
        SMTPPoolKey(
            configuration: SMTPConfiguration(host: host), route: TransportRoute(workspaceID: "w", credentialID: "c"),
            fingerprintKey: SecretFingerprint.Key(bytes: [1, 2, 3]))
    }

    @Test func anAttemptInProgressAnswersWithItsLatestPhase() {
        let progress = SMTPSetupProgress()
        #expect(progress.phase(for: key) == nil)
        let token = progress.begin(key: key)
        #expect(progress.phase(for: key) == .connect)
        progress.advance(token, to: .greeting)
        progress.advance(token, to: .ehlo)
        #expect(progress.phase(for: key) == .ehlo)
        #expect(progress.phase(for: Self.key(host: "other.example.com")) == nil)
    }

    /// The pool may reject the waiter before or after the cancelled attempt has ended.
    @Test func anAttemptThatEndedWithoutAConnectionStillAnswers() {
        let progress = SMTPSetupProgress()
        let token = progress.begin(key: key)
        progress.advance(token, to: .auth)
        progress.end(token, connected: false)
        #expect(progress.phase(for: key) == .auth)
    }

    @Test func aConnectedAttemptIsForgotten() {
        let progress = SMTPSetupProgress()
        let token = progress.begin(key: key)
        progress.advance(token, to: .auth)
        progress.end(token, connected: true)
        #expect(progress.phase(for: key) == nil)
    }

    @Test func theNewestAttemptForAKeyAnswers() {
        let progress = SMTPSetupProgress()
        let first = progress.begin(key: key)
        progress.advance(first, to: .auth)
        progress.end(first, connected: false)
        let second = progress.begin(key: key)
        progress.advance(second, to: .greeting)
        #expect(progress.phase(for: key) == .greeting)
    }
}
