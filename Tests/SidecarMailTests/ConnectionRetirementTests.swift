import SidecarPool
import Testing

@testable import SidecarMail

/// When a pooled connection serves another send, and when it is retired or discarded.
@Suite struct ConnectionRetirementTests {
    static let postfix = "localhost ESMTP Postfix (Debian/GNU)"
    static let exim = "mail.example.test ESMTP Exim 4.96 Thu, 03 Dec 2026 21:36:01 +0000"

    func rule(
        usable: Bool = true, errors: Int = 0, utf8: Bool = false, transactions: Int = 1, limit: Int? = nil,
        greeting: String = postfix
    ) -> ConnectionRetirement {
        ConnectionRetirement(
            isUsable: usable, errorReplies: errors, usedSMTPUTF8: utf8, transactionsStarted: transactions,
            messageLimit: limit, greeting: greeting)
    }

    @Test func aCleanSessionIsReused() {
        #expect(rule().disposition == .reuse)
        #expect(rule(transactions: 500).disposition == .reuse, "the pool's own use limit applies, not this rule")
    }

    @Test func anUnusableSessionIsDiscarded() {
        #expect(rule(usable: false).disposition == .discard)
        #expect(rule(usable: false, errors: 3, utf8: true).disposition == .discard)
    }

    @Test func anErrorReplyOrSMTPUTF8RetiresIt() {
        #expect(rule(errors: 1).disposition == .retire)
        #expect(rule(utf8: true).disposition == .retire)
    }

    @Test func eximIsRetiredBeforeItStartsQueueingTheSessionsMessages() {
        #expect(rule(transactions: 9, greeting: Self.exim).disposition == .reuse)
        #expect(rule(transactions: 10, greeting: Self.exim).disposition == .retire)
        #expect(rule(transactions: 10, greeting: "220 " + Self.exim).disposition == .retire)
        #expect(rule(transactions: 10, greeting: "mx.example.test ESMTP exim ready").disposition == .retire)
        // A word that merely contains the name is not Exim.
        #expect(rule(transactions: 10, greeting: "eximious.example.test ESMTP").disposition == .reuse)
    }

    @Test func theCredentialsMessageLimitRetiresIt() {
        #expect(rule(transactions: 1, limit: 2).disposition == .reuse)
        #expect(rule(transactions: 2, limit: 2).disposition == .retire)
        #expect(rule(transactions: 1, limit: 1).disposition == .retire)
        // An error reply or SMTPUTF8 still retires it before the limit; unusable still discards.
        #expect(rule(errors: 1, transactions: 1, limit: 5).disposition == .retire)
        #expect(rule(usable: false, transactions: 5, limit: 5).disposition == .discard)
    }

    @Test func theCredentialsMessageLimitReplacesTheEximGuess() {
        #expect(rule(transactions: 10, limit: 50, greeting: Self.exim).disposition == .reuse, "higher than Exim's 10")
        #expect(rule(transactions: 50, limit: 50, greeting: Self.exim).disposition == .retire)
        #expect(rule(transactions: 3, limit: 3, greeting: Self.exim).disposition == .retire, "lower than Exim's 10")
    }
}
