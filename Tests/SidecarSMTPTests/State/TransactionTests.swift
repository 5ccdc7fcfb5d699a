import SidecarCore
import Testing

@testable import SidecarSMTP

/// MAIL/RCPT/DATA, pipelined and not, and every way a message can end.
@Suite struct TransactionTests {
    typealias F = Fixtures

    @Test func pipelinedSendWritesMailAllRcptAndDataInOneFlush() {
        var machine = F.ready()
        let action = machine.sendRequested(F.request())
        #expect(action == .send([
            .mail(reversePath: "from@example.com", parameters: ["SIZE=500"]),
            .rcpt(forwardPath: "a@example.com", parameters: []),
            .rcpt(forwardPath: "b@example.com", parameters: []),
            .data,
        ], arm: machine.timer(.mail)))
        #expect(machine.replyReceived(F.reply(250, "2.1.0 Ok")) == .armTimer(machine.timer(.rcpt)))
        #expect(machine.replyReceived(F.reply(250, "2.1.5 Ok")) == .armTimer(machine.timer(.rcpt)))
        #expect(machine.replyReceived(F.reply(550, "5.1.1 <b@example.com>: unknown user")) == .armTimer(machine.timer(.dataInitiation)))
        #expect(machine.replyReceived(F.reply(354, "End data with <CR><LF>.<CR><LF>")) == .streamBody(after: [], transfer: .data, arm: machine.timer(.dataBlock)))
        #expect(machine.bodyChunkReady() == .writeBodyChunk(arm: machine.timer(.dataBlock)))
        #expect(machine.bodyFinished() == .send([.endOfData], arm: machine.timer(.dataTermination)))
        let done = machine.replyReceived(F.reply(250, "2.0.0 Ok: queued as ABC123"))
        guard case .complete(.transaction(.sent(let delivery))) = done else {
            Issue.record("not sent: \(done)")
            return
        }
        #expect(delivery.reply == SMTPReply(code: 250, enhancedCode: "2.0.0", text: "Ok: queued as ABC123"))
        #expect(delivery.acceptedRecipients.map(\.address) == ["a@example.com"])
        #expect(delivery.rejectedRecipients.map(\.address) == ["b@example.com"])
        #expect(delivery.rejectedRecipients.first?.reply.code == 550)
        #expect(machine.messagesSent == 1)
        #expect(machine.isUsable)
        // The connection can carry the next message.
        #expect(machine.sendRequested(F.request(["c@example.com"])).commands.count == 3)
    }

    @Test func withoutPipeliningCommandsGoOneAtATime() {
        var machine = F.ready(["SIZE 1000"])
        #expect(machine.sendRequested(F.request()).commands == [.mail(reversePath: "from@example.com", parameters: ["SIZE=500"])])
        #expect(machine.replyReceived(F.reply(250)).commands == [.rcpt(forwardPath: "a@example.com", parameters: [])])
        #expect(machine.replyReceived(F.reply(451, "4.3.0 try later")).commands == [.rcpt(forwardPath: "b@example.com", parameters: [])])
        #expect(machine.replyReceived(F.reply(250)) == .send([.data], arm: machine.timer(.dataInitiation)))
        #expect(machine.replyReceived(F.reply(354)) == .streamBody(after: [], transfer: .data, arm: machine.timer(.dataBlock)))
        _ = machine.bodyFinished()
        guard case .complete(.transaction(.sent(let delivery))) = machine.replyReceived(F.reply(250, "queued")) else {
            Issue.record("not sent")
            return
        }
        #expect(delivery.recipients.map(\.accepted) == [false, true])
    }

    @Test(arguments: [false, true])
    func allRecipientsRejectedResetsAndReportsEach(pipelining: Bool) {
        var machine = F.ready(pipelining ? ["PIPELINING"] : [])
        _ = machine.sendRequested(F.request())
        _ = machine.replyReceived(F.reply(250))
        _ = machine.replyReceived(F.reply(550, "5.1.1 no such user a"))
        var action = machine.replyReceived(F.reply(450, "4.2.1 mailbox busy b"))
        if pipelining {
            #expect(action == .armTimer(machine.timer(.dataInitiation)))
            action = machine.replyReceived(F.reply(554, "5.5.1 Error: no valid recipients"))
        }
        #expect(action == .send([.rset], arm: machine.timer(.reset)))
        let done = machine.replyReceived(F.reply(250))
        guard case .complete(.transaction(.notSent(let failure))) = done else {
            Issue.record("expected notSent, got \(done)")
            return
        }
        #expect(failure.error.code == .recipientsRejected)
        #expect(failure.error.retryable == false, "one refusal was permanent")
        #expect(failure.phase == .rcpt)
        #expect(failure.recipients.map(\.reply.code) == [550, 450])
        #expect(machine.isUsable)
    }

    @Test func allRecipientsTransientlyRejectedIsRetryable() {
        var machine = F.ready([])
        _ = machine.sendRequested(F.request(["a@example.com"]))
        _ = machine.replyReceived(F.reply(250))
        _ = machine.replyReceived(F.reply(450, "4.2.1 busy"))
        #expect(machine.replyReceived(F.reply(250)).sendResult?.error?.retryable == true)
    }

    @Test func dataAcceptedWithoutValidRecipientsIsEndedWithALoneDot() {
        var machine = F.ready(["PIPELINING"])
        _ = machine.sendRequested(F.request(["a@example.com"]))
        _ = machine.replyReceived(F.reply(250))
        _ = machine.replyReceived(F.reply(550))
        #expect(machine.replyReceived(F.reply(354)) == .send([.endOfData], arm: machine.timer(.dataTermination)))
        #expect(machine.replyReceived(F.reply(554, "no valid recipients")) == .send([.rset], arm: machine.timer(.reset)))
        #expect(machine.replyReceived(F.reply(250)).sendResult?.error?.code == .recipientsRejected)
    }

    @Test func pipelinedSenderRejectionDrainsTheRemainingRepliesThenResets() {
        var machine = F.ready(["PIPELINING"])
        _ = machine.sendRequested(F.request())
        #expect(machine.replyReceived(F.reply(553, "5.7.1 Sender address rejected: not owned by user")) == .armTimer(machine.timer(.rcpt)))
        #expect(machine.replyReceived(F.reply(503, "5.5.1 need MAIL")) == .armTimer(machine.timer(.rcpt)))
        #expect(machine.replyReceived(F.reply(503, "5.5.1 need MAIL")) == .armTimer(machine.timer(.rcpt)))
        #expect(machine.replyReceived(F.reply(503, "5.5.1 need RCPT")) == .send([.rset], arm: machine.timer(.reset)))
        let result = machine.replyReceived(F.reply(250)).sendResult
        #expect(result?.error?.code == .senderRejected)
        #expect(result?.error?.smtp?.code == 553)
        guard case .notSent(let failure) = result else { return }
        #expect(failure.phase == .mail)
    }

    @Test func dataRefusedIsMessageRejected() {
        var machine = F.ready([])
        _ = machine.sendRequested(F.request(["a@example.com"]))
        _ = machine.replyReceived(F.reply(250))
        _ = machine.replyReceived(F.reply(250))
        #expect(machine.replyReceived(F.reply(451, "4.3.0 not now")) == .send([.rset], arm: machine.timer(.reset)))
        let result = machine.replyReceived(F.reply(250)).sendResult
        #expect(result?.error?.code == .messageRejected)
        #expect(result?.error?.retryable == true)
    }

    @Test(arguments: [(554, false), (452, true)])
    func finalRefusalIsNotSentAndTheConnectionStaysUsable(code: Int, retryable: Bool) {
        var machine = F.awaitingFinalReply()
        let action = machine.replyReceived(F.reply(code, "spam"))
        guard case .complete(.transaction(.notSent(let failure))) = action else {
            Issue.record("expected notSent, got \(action)")
            return
        }
        #expect(failure.error.code == .messageRejected)
        #expect(failure.error.retryable == retryable)
        #expect(failure.phase == .data)
        #expect(machine.isUsable)
    }

    @Test func sizeAboveTheServerLimitFailsBeforeAnythingIsSent() {
        var machine = F.ready()  // SIZE 1000
        let action = machine.sendRequested(F.request(size: 1001))
        #expect(action.commands.isEmpty)
        #expect(action.sendResult?.error?.code == .messageTooLarge)
        #expect(action.sendResult?.error?.message.contains("at most 1000 bytes") == true)
        #expect(machine.isUsable)
        #expect(machine.sendRequested(F.request(size: 1000)).commands.first == .mail(reversePath: "from@example.com", parameters: ["SIZE=1000"]))
    }

    @Test func sizeParameterOnlyWhenAdvertisedAndKnown() {
        var noSize = F.ready(["PIPELINING"])
        #expect(noSize.sendRequested(F.request(size: 10)).commands.first == .mail(reversePath: "from@example.com", parameters: []))
        var unknownSize = F.ready(["SIZE"])
        #expect(unknownSize.sendRequested(F.request(size: nil)).commands.first == .mail(reversePath: "from@example.com", parameters: []))
        var unlimited = F.ready(["SIZE 0"])
        #expect(unlimited.sendRequested(F.request(size: 99_999_999)).commands.first
            == .mail(reversePath: "from@example.com", parameters: ["SIZE=99999999"]))
    }

    @Test func smtputf8NeededButAbsentFailsEarly() {
        var machine = F.ready(["PIPELINING", "8BITMIME"])
        let action = machine.sendRequested(F.request(smtputf8: true))
        #expect(action.commands.isEmpty)
        #expect(action.sendResult?.error?.code == .smtputf8Unsupported)
        var capable = F.ready(["SMTPUTF8"])
        #expect(capable.sendRequested(F.request(size: nil, smtputf8: true)).commands
            == [.mail(reversePath: "from@example.com", parameters: ["SMTPUTF8"])])
    }

    @Test func dsnParametersOnlyWhenTheServerOffersDSN() {
        let dsn = SMTPDSNOptions(notify: [.failure, .delay], ret: .headers, envelopeID: "id+1=2 x")
        var offering = F.ready(["PIPELINING", "DSN"])
        #expect(offering.sendRequested(F.request(["a@example.com"], size: nil), options: SMTPSendOptions(dsn: dsn)).commands == [
            .mail(reversePath: "from@example.com", parameters: ["RET=HDRS", "ENVID=id+2B1+3D2+20x"]),
            .rcpt(forwardPath: "a@example.com", parameters: ["NOTIFY=FAILURE,DELAY"]),
            .data,
        ])
        var notOffering = F.ready(["PIPELINING"])
        #expect(notOffering.sendRequested(F.request(["a@example.com"], size: nil), options: SMTPSendOptions(dsn: dsn)).commands == [
            .mail(reversePath: "from@example.com", parameters: []),
            .rcpt(forwardPath: "a@example.com", parameters: []),
            .data,
        ])
        #expect(SMTPDSNOptions(notify: []).rcptParameters == ["NOTIFY=NEVER"])
    }

    @Test func addressesThatWouldBreakTheCommandLineAreRefused() {
        var machine = F.ready()
        let action = machine.sendRequested(F.request(["a@example.com>\r\nRCPT TO:<evil@example.com"]))
        #expect(action.commands.isEmpty)
        #expect(action.sendResult?.error?.code == .invalidAddress)
    }

    @Test func disconnectBeforeTheFinalDotIsNotSent() {
        var machine = F.streaming()
        let result = machine.connectionClosed().sendResult
        guard case .notSent(let failure) = result else {
            Issue.record("expected notSent, got \(String(describing: result))")
            return
        }
        #expect(failure.error.code == .connectionFailed)
        #expect(failure.error.retryable)
        #expect(failure.phase == .data)
        #expect(!machine.isUsable)
    }

    @Test func disconnectAfterTheFinalDotMayHaveBeenSent() {
        var machine = F.awaitingFinalReply()
        let result = machine.connectionClosed().sendResult
        guard case .mayHaveBeenSent(let failure) = result else {
            Issue.record("expected mayHaveBeenSent, got \(String(describing: result))")
            return
        }
        #expect(failure.error.code == .outcomeUnknown)
        #expect(!failure.error.retryable)
        #expect(failure.error.message.contains("may have been delivered"))
        #expect(failure.recipients.map(\.address) == ["a@example.com"])
        #expect(!machine.isUsable)
    }

    @Test func aTLSErrorAfterTheFinalDotMayHaveBeenSent() {
        var machine = F.awaitingFinalReply()
        guard case .mayHaveBeenSent = machine.failed(.smtpTLSFailed("bad record mac")).sendResult else {
            Issue.record("expected mayHaveBeenSent")
            return
        }
    }

    @Test func aBodySourceFailureClosesWithoutTheFinalDot() {
        var machine = F.streaming()
        let error = SidecarError(code: .attachmentFetchFailed, message: "fetch failed", retryable: true)
        let recipients = machine.stateRecipients
        #expect(recipients.map(\.address) == ["a@example.com"])
        let action = machine.bodyFailed(error)
        #expect(action == .close(.transaction(.notSent(SMTPSendFailure(error: error, phase: .data, recipients: recipients))), sendQuit: false))
        #expect(machine.bodyFinished() == .none, "no final dot after an abort")
    }

    @Test func theServerSpeakingDuringTheBodyEndsTheTransaction() {
        var machine = F.streaming()
        let action = machine.replyReceived(F.reply(554, "5.6.0 message content rejected"))
        #expect(action.isClose)
        #expect(action.sendResult?.error?.code == .messageRejected)
        #expect(machine.bodyChunkReady() == .none, "the writer is refused from now on")
    }

    @Test func resetAndQuit() {
        var machine = F.ready()
        #expect(machine.resetRequested() == .send([.rset], arm: machine.timer(.reset)))
        #expect(machine.replyReceived(F.reply(250)) == .complete(.reset(nil)))
        #expect(machine.quitRequested() == .send([.quit], arm: machine.timer(.quit)))
        #expect(!machine.isUsable)
        #expect(machine.replyReceived(F.reply(221, "2.0.0 Bye")) == .close(.quit, sendQuit: false))
        #expect(machine.quitRequested() == .complete(.quit))
        #expect(machine.sendRequested(F.request()).sendResult?.error?.code == .connectionFailed)
        #expect(machine.resetRequested() == .complete(.reset(SMTPFailure(error: .smtpConnectionUnusable(), phase: .reset))))
    }

    @Test func anUnsolicited421WhileIdleClosesAndMakesTheConnectionUnusable() {
        var machine = F.ready()
        #expect(machine.replyReceived(F.reply(421, "4.4.2 idle timeout")) == .close(nil, sendQuit: false))
        #expect(!machine.isUsable)
    }

    @Test func anUnexpectedIntermediateReplyToMAILIsAProtocolError() {
        var machine = F.ready([])
        _ = machine.sendRequested(F.request())
        let action = machine.replyReceived(F.reply(334, "huh"))
        #expect(action.isClose)
        #expect(action.sendResult?.error?.code == .protocolViolation)
        #expect(!machine.isUsable)
    }
}

extension SMTPClientStateMachine {
    /// The recipients recorded in the current transaction (tests only).
    var stateRecipients: [SMTPRecipientResult] {
        if case .transaction(let transaction) = state { return transaction.recipients }
        return []
    }
}
