import SidecarCore
import Testing

@testable import SidecarSMTP

/// A server that closes the session at its error limit (chasquid: `421 4.5.0 Too many
/// errors` after the third error reply; stock Postfix after 20) in the middle of a
/// pipelined flight, and what the session counts for the pool to retire it.
@Suite struct SessionErrorLimitTests {
    typealias F = Fixtures

    static let recipients = ["good1@example.com", "good2@example.com", "bad1@example.com", "bad2@example.com", "bad3@example.com"]

    static func failure(_ action: SMTPClientStateMachine.Action, sourceLocation: SourceLocation = #_sourceLocation) -> SMTPSendFailure? {
        guard case .close(.transaction(.notSent(let failure))?, _) = action else {
            Issue.record("expected the session to close with not sent, got \(action)", sourceLocation: sourceLocation)
            return nil
        }
        return failure
    }

    /// chasquid: every RCPT answered, the third refusal followed by 421 in DATA's place.
    @Test func a421InPlaceOfDATAAfterRefusalsSaysTheServerTookNoneOfTheMessage() {
        var machine = F.ready(F.fullEHLO)
        _ = machine.sendRequested(F.request(Self.recipients))
        _ = machine.replyReceived(F.reply(250, "2.1.0 Ok"))
        _ = machine.replyReceived(F.reply(250, "2.1.5 Ok"))
        _ = machine.replyReceived(F.reply(250, "2.1.5 Ok"))
        for _ in 0..<3 { _ = machine.replyReceived(F.reply(550, "5.1.1 unknown")) }
        let failure = Self.failure(machine.replyReceived(F.reply(421, "4.5.0 Too many errors, bye")))
        #expect(failure?.closedBeforeMessage == true)
        #expect(failure?.recipients.filter(\.accepted).map(\.address) == ["good1@example.com", "good2@example.com"])
        #expect(failure?.recipients.filter { !$0.accepted }.map(\.address) == ["bad1@example.com", "bad2@example.com", "bad3@example.com"])
        #expect(failure?.error.smtp?.code == 421)
        #expect(!machine.isUsable)
        #expect(machine.errorReplies == 4)
    }

    /// Stock Postfix: the 421 answers the next command, here a RCPT in the middle of the
    /// pipelined replies; the recipients after it were never answered.
    @Test(arguments: [false, true])
    func a421InTheMiddleOfThePipelinedRCPTRepliesKeepsTheRepliesSoFar(chunking: Bool) {
        var machine = F.ready(chunking ? F.fullEHLO + ["CHUNKING"] : F.fullEHLO)
        _ = machine.sendRequested(F.request(Self.recipients), messageInHand: chunking)
        _ = machine.replyReceived(F.reply(250, "2.1.0 Ok"))
        _ = machine.replyReceived(F.reply(250, "2.1.5 Ok"))
        _ = machine.replyReceived(F.reply(550, "5.1.1 unknown"))
        let failure = Self.failure(machine.replyReceived(F.reply(421, "4.7.0 Error: too many errors")))
        #expect(failure?.closedBeforeMessage == true)
        #expect(failure?.phase == .rcpt)
        #expect(failure?.recipients.map(\.address) == ["good1@example.com", "good2@example.com"])
        #expect(failure?.recipients.map(\.reply.code) == [250, 550])
        // The replies still due never come: the session is over.
        #expect(machine.replyReceived(F.reply(250)) == .none)
    }

    @Test func a421AfterEveryRecipientWasRefusedIsRecipientsRejected() {
        var machine = F.ready(F.fullEHLO)
        _ = machine.sendRequested(F.request(["bad1@example.com", "bad2@example.com"]))
        _ = machine.replyReceived(F.reply(250, "2.1.0 Ok"))
        _ = machine.replyReceived(F.reply(550, "5.1.1 unknown"))
        _ = machine.replyReceived(F.reply(550, "5.1.1 unknown"))
        let failure = Self.failure(machine.replyReceived(F.reply(421, "4.5.0 Too many errors, bye")))
        #expect(failure?.error.code == .recipientsRejected)
        #expect(failure?.error.retryable == false)
        #expect(failure?.phase == .rcpt)
    }

    @Test func a421AfterTheFinalDotIsNotBeforeTheMessage() {
        var machine = F.awaitingFinalReply()
        let failure = Self.failure(machine.replyReceived(F.reply(421, "4.3.0 shutting down")))
        #expect(failure?.closedBeforeMessage == false)
    }

    @Test func theSessionCountsErrorRepliesTransactionsAndSMTPUTF8() {
        var machine = F.ready(F.fullEHLO)
        #expect(machine.greeting == "mx ESMTP")
        _ = machine.sendRequested(F.request(["a@example.com", "b@example.com"]), messageInHand: false)
        _ = machine.replyReceived(F.reply(250))
        _ = machine.replyReceived(F.reply(250))
        _ = machine.replyReceived(F.reply(450, "4.2.0 greylisted"))
        _ = machine.replyReceived(F.reply(354))
        _ = machine.bodyChunkReady()
        _ = machine.bodyFinished()
        _ = machine.replyReceived(F.reply(250, "queued"))
        #expect(machine.transactionsStarted == 1 && machine.errorReplies == 1 && !machine.usedSMTPUTF8)
        _ = machine.sendRequested(F.request(["ü@example.com"], smtputf8: true), messageInHand: true)
        #expect(machine.transactionsStarted == 2 && machine.usedSMTPUTF8)
    }

    /// A server that drops the connection while a streamed BDAT message is going out, before
    /// it answered MAIL: the failure is in `data`, where the session was, not `mail`.
    @Test func aDropWhileAStreamedBDATMessageGoesOutIsInTheDataPhase() {
        var machine = F.ready(F.fullEHLO + ["CHUNKING"])
        guard case .streamBody = machine.sendRequested(F.request()) else {
            Issue.record("not streamed")
            return
        }
        _ = machine.bodyChunkReady()
        #expect(machine.phase == .data)
        let failure = Self.failure(machine.connectionClosed())
        #expect(failure?.phase == .data)
        #expect(failure?.error.code == .connectionFailed)
        #expect(failure?.error.message.contains("the message transfer") == true)
    }
}
