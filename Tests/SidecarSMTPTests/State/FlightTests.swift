import SidecarCore
import Testing

@testable import SidecarSMTP

/// The flights of a warm send: PIPELINING + CHUNKING (one round trip), PIPELINING only,
/// CHUNKING only, neither; with the message in hand or streamed; and every failure inside
/// a flight.
@Suite struct FlightTests {
    typealias F = Fixtures
    typealias Transfer = SMTPClientStateMachine.MessageTransfer

    static let chunkingEHLO = F.fullEHLO + ["CHUNKING"]
    static let mail = SMTPCommand.mail(reversePath: "from@example.com", parameters: ["SIZE=500"])
    static let rcptA = SMTPCommand.rcpt(forwardPath: "a@example.com", parameters: [])
    static let rcptB = SMTPCommand.rcpt(forwardPath: "b@example.com", parameters: [])
    static let bdat = SMTPCommand.bdat(size: 500, last: true)

    /// A one-flight send is out: MAIL, both RCPTs, BDAT and the message in one write.
    static func oneFlight() -> SMTPClientStateMachine {
        var machine = F.ready(chunkingEHLO)
        let action = machine.sendRequested(F.request(), messageInHand: true)
        precondition(action == .sendMessage(after: [mail, rcptA, rcptB, bdat], transfer: .bdat(size: 500), arm: machine.timer(.mail)))
        return machine
    }

    /// The same flight with the message streamed after BDAT.
    static func streamedFlight() -> SMTPClientStateMachine {
        var machine = F.ready(chunkingEHLO)
        let action = machine.sendRequested(F.request())
        precondition(action == .streamBody(after: [mail, rcptA, rcptB, bdat], transfer: .bdat(size: 500), arm: machine.timer(.dataBlock)))
        return machine
    }

    func expectNotSent(_ action: SMTPClientStateMachine.Action, _ code: ErrorCode, sourceLocation: SourceLocation = #_sourceLocation) -> SMTPSendFailure? {
        guard case .notSent(let failure)? = action.sendResult else {
            Issue.record("expected not sent, got \(action)", sourceLocation: sourceLocation)
            return nil
        }
        #expect(failure.error.code == code, sourceLocation: sourceLocation)
        return failure
    }

    // MARK: - PIPELINING + CHUNKING

    @Test func oneFlightCarriesEverythingAndKeepsPerRecipientResults() {
        var machine = Self.oneFlight()
        #expect(machine.replyReceived(F.reply(250, "2.1.0 Ok")) == .armTimer(machine.timer(.rcpt)))
        #expect(machine.replyReceived(F.reply(250, "2.1.5 Ok")) == .armTimer(machine.timer(.rcpt)))
        #expect(machine.replyReceived(F.reply(550, "5.1.1 <b@example.com>: unknown user")) == .armTimer(machine.timer(.dataTermination)))
        let done = machine.replyReceived(F.reply(250, "2.0.0 Ok: 500 bytes queued as Q1"))
        guard case .complete(.transaction(.sent(let delivery))) = done else {
            Issue.record("not sent: \(done)")
            return
        }
        #expect(delivery.reply.text == "Ok: 500 bytes queued as Q1")
        #expect(delivery.acceptedRecipients.map(\.address) == ["a@example.com"])
        #expect(delivery.rejectedRecipients.map(\.reply.code) == [550])
        #expect(machine.messagesSent == 1)
        #expect(machine.isUsable)
        // The next message goes out the same way, on the same connection.
        #expect(machine.sendRequested(F.request(), messageInHand: true).isSendMessage)
    }

    @Test func allRecipientsRejectedWithBDATAlreadySentDrainsItsReplyThenResets() {
        var machine = Self.oneFlight()
        _ = machine.replyReceived(F.reply(250))
        _ = machine.replyReceived(F.reply(550, "5.1.1 no such user a"))
        // BDAT's reply is still due (the server read and discarded the bytes).
        #expect(machine.replyReceived(F.reply(450, "4.2.1 busy b")) == .armTimer(machine.timer(.dataTermination)))
        #expect(machine.replyReceived(F.reply(554, "5.5.1 Error: no valid recipients")) == .send([.rset], arm: machine.timer(.reset)))
        let failure = expectNotSent(machine.replyReceived(F.reply(250)), .recipientsRejected)
        #expect(failure?.phase == .rcpt)
        #expect(failure?.recipients.map(\.reply.code) == [550, 450])
        #expect(machine.isUsable)
        #expect(machine.messagesSent == 0)
    }

    @Test func senderRejectedInTheFlightDrainsEveryReplyThenResets() {
        var machine = Self.oneFlight()
        #expect(machine.replyReceived(F.reply(553, "5.7.1 sender not owned")) == .armTimer(machine.timer(.dataTermination)))
        #expect(machine.replyReceived(F.reply(503, "5.5.1 need MAIL")) == .armTimer(machine.timer(.dataTermination)))
        #expect(machine.replyReceived(F.reply(503, "5.5.1 need MAIL")) == .armTimer(machine.timer(.dataTermination)))
        #expect(machine.replyReceived(F.reply(503, "5.5.1 need RCPT")) == .send([.rset], arm: machine.timer(.reset)))
        let failure = expectNotSent(machine.replyReceived(F.reply(250)), .senderRejected)
        #expect(failure?.phase == .mail)
        #expect(machine.isUsable)
    }

    @Test(arguments: [0, 1, 2, 3])
    func a421AnywhereInTheFlightIsADefiniteRefusal(afterReplies: Int) {
        var machine = Self.oneFlight()
        for _ in 0..<afterReplies { _ = machine.replyReceived(F.reply(250)) }
        let action = machine.replyReceived(F.reply(421, "4.3.2 shutting down"))
        #expect(action.isClose)
        let failure = expectNotSent(action, .connectionFailed)
        #expect(failure?.recipients.count == max(0, afterReplies - 1))
        #expect(!machine.isUsable)
    }

    @Test(arguments: [0, 1, 2, 3])
    func aDisconnectAfterBDATWentOutMayHaveBeenSent(afterReplies: Int) {
        var machine = Self.oneFlight()
        for _ in 0..<afterReplies { _ = machine.replyReceived(F.reply(250)) }
        guard case .mayHaveBeenSent(let failure)? = machine.connectionClosed().sendResult else {
            Issue.record("expected may have been sent")
            return
        }
        #expect(failure.error.code == .outcomeUnknown)
        #expect(failure.phase == .data)
        #expect(failure.recipients.count == max(0, afterReplies - 1))
    }

    @Test func aTimeoutWaitingForBDATsReplyMayHaveBeenSent() {
        var machine = Self.oneFlight()
        for _ in 0..<3 { _ = machine.replyReceived(F.reply(250)) }
        guard case .mayHaveBeenSent(let failure)? = machine.timerFired().sendResult else {
            Issue.record("expected may have been sent")
            return
        }
        #expect(failure.error.code == .outcomeUnknown)
    }

    @Test func aDisconnectOnceEveryRecipientIsKnownRejectedIsNotSent() {
        var machine = Self.oneFlight()
        _ = machine.replyReceived(F.reply(250))
        _ = machine.replyReceived(F.reply(550))
        _ = machine.replyReceived(F.reply(550))
        _ = expectNotSent(machine.connectionClosed(), .recipientsRejected)
    }

    @Test func bdatRefusedEndsTheTransactionWithoutRSET() {
        var machine = Self.oneFlight()
        for _ in 0..<3 { _ = machine.replyReceived(F.reply(250)) }
        let action = machine.replyReceived(F.reply(552, "5.3.4 message too big"))
        guard case .complete(.transaction(.notSent(let failure))) = action else {
            Issue.record("expected a completed refusal, got \(action)")
            return
        }
        #expect(failure.error.code == .messageRejected)
        #expect(failure.phase == .data)
        #expect(machine.isUsable)
        #expect(machine.sendRequested(F.request(), messageInHand: true).isSendMessage)
    }

    @Test func anIntermediateReplyToBDATIsAProtocolError() {
        var machine = Self.oneFlight()
        for _ in 0..<3 { _ = machine.replyReceived(F.reply(250)) }
        guard case .mayHaveBeenSent(let failure)? = machine.replyReceived(F.reply(354, "go ahead")).sendResult else {
            Issue.record("expected may have been sent")
            return
        }
        #expect(failure.error.code == .outcomeUnknown)
        #expect(!machine.isUsable)
    }

    // MARK: - BDAT with the message streamed

    @Test func streamedBDATReadsRepliesWhileTheBytesGoOut() {
        var machine = Self.streamedFlight()
        // The chunk timer governs while streaming; replies do not re-arm it.
        #expect(machine.replyReceived(F.reply(250)) == .none)
        #expect(machine.bodyChunkReady() == .writeBodyChunk(arm: machine.timer(.dataBlock)))
        #expect(machine.replyReceived(F.reply(250)) == .none)
        #expect(machine.bodyChunkReady() == .writeBodyChunk(arm: machine.timer(.dataBlock)))
        // No final dot: the reply still due is awaited.
        #expect(machine.bodyFinished() == .armTimer(machine.timer(.rcpt)))
        #expect(machine.replyReceived(F.reply(250)) == .armTimer(machine.timer(.dataTermination)))
        guard case .complete(.transaction(.sent(let delivery))) = machine.replyReceived(F.reply(250, "queued")) else {
            Issue.record("not sent")
            return
        }
        #expect(delivery.acceptedRecipients.count == 2)
    }

    @Test func streamedBDATInterruptedBeforeTheLastByteIsNotSent() {
        var machine = Self.streamedFlight()
        for _ in 0..<3 { _ = machine.replyReceived(F.reply(250)) }
        _ = machine.bodyChunkReady()
        let failure = expectNotSent(machine.connectionClosed(), .connectionFailed)
        #expect(failure?.phase == .data)
    }

    @Test func streamedBDATKeepsStreamingWhenEveryRecipientIsRejected() {
        var machine = Self.streamedFlight()
        #expect(machine.replyReceived(F.reply(250)) == .none)
        #expect(machine.replyReceived(F.reply(550)) == .none)
        #expect(machine.replyReceived(F.reply(550)) == .none)
        // The server discards the announced bytes; they must still all go out.
        #expect(machine.bodyChunkReady() == .writeBodyChunk(arm: machine.timer(.dataBlock)))
        #expect(machine.bodyFinished() == .armTimer(machine.timer(.dataTermination)))
        #expect(machine.replyReceived(F.reply(554, "5.5.1 no valid recipients")) == .send([.rset], arm: machine.timer(.reset)))
        _ = expectNotSent(machine.replyReceived(F.reply(250)), .recipientsRejected)
        #expect(machine.isUsable)
    }

    @Test func bdatsReplyBeforeItsLastByteAbandonsTheMessage() {
        var machine = Self.streamedFlight()
        for _ in 0..<3 { _ = machine.replyReceived(F.reply(250)) }
        let action = machine.replyReceived(F.reply(552, "5.3.4 too big"))
        #expect(action.isClose)
        _ = expectNotSent(action, .messageRejected)
    }

    @Test func aRefusalBeforeTheLastByteOfARejectedFlightClosesRatherThanRSET() {
        var machine = Self.streamedFlight()
        _ = machine.replyReceived(F.reply(550, "5.7.1 no"))
        _ = machine.replyReceived(F.reply(503))
        _ = machine.replyReceived(F.reply(503))
        // BDAT's reply while its bytes are still going out: RSET would be read as data.
        let action = machine.replyReceived(F.reply(503))
        #expect(action.isClose)
        _ = expectNotSent(action, .senderRejected)
    }

    @Test func aBodyFailureWhileStreamingBDATClosesWithoutTheMissingBytes() {
        var machine = Self.streamedFlight()
        _ = machine.replyReceived(F.reply(250))
        let action = machine.bodyFailed(SidecarError(code: .attachmentFetchFailed, message: "gone", retryable: true))
        #expect(action.isClose)
        _ = expectNotSent(action, .attachmentFetchFailed)
    }

    // MARK: - Other combinations

    @Test func chunkingWithoutPipeliningSendsBDATAndTheMessageOnceRecipientsAreIn() {
        var machine = F.ready(["SIZE 1000", "CHUNKING"])
        #expect(machine.sendRequested(F.request(), messageInHand: true) == .send([Self.mail], arm: machine.timer(.mail)))
        #expect(machine.replyReceived(F.reply(250)).commands == [Self.rcptA])
        #expect(machine.replyReceived(F.reply(550)).commands == [Self.rcptB])
        #expect(machine.replyReceived(F.reply(250)) == .sendMessage(after: [Self.bdat], transfer: .bdat(size: 500), arm: machine.timer(.dataTermination)))
        guard case .complete(.transaction(.sent(let delivery))) = machine.replyReceived(F.reply(250)) else {
            Issue.record("not sent")
            return
        }
        #expect(delivery.recipients.map(\.accepted) == [false, true])
    }

    @Test func chunkingWithoutPipeliningStreamsAfterBDAT() {
        var machine = F.ready(["SIZE 1000", "CHUNKING"])
        _ = machine.sendRequested(F.request(["a@example.com"]))
        #expect(machine.replyReceived(F.reply(250)).commands == [Self.rcptA])
        #expect(machine.replyReceived(F.reply(250)) == .streamBody(after: [Self.bdat], transfer: .bdat(size: 500), arm: machine.timer(.dataBlock)))
        #expect(machine.bodyFinished() == .armTimer(machine.timer(.dataTermination)))
        #expect(machine.replyReceived(F.reply(250)).sendResult?.error == nil)
    }

    @Test func chunkingIsNotUsedWhenTheSizeIsUnknown() {
        var machine = F.ready(Self.chunkingEHLO)
        let action = machine.sendRequested(F.request(size: nil))
        #expect(action.commands.last == .data)
    }

    @Test func pipeliningOnlyPutsDATAInTheFlightAndTheMessageInHandAfterThe354() {
        var machine = F.ready()
        #expect(machine.sendRequested(F.request(), messageInHand: true).commands == [
            .mail(reversePath: "from@example.com", parameters: ["SIZE=500"]), Self.rcptA, Self.rcptB, .data,
        ])
        _ = machine.replyReceived(F.reply(250))
        _ = machine.replyReceived(F.reply(250))
        _ = machine.replyReceived(F.reply(250))
        #expect(machine.replyReceived(F.reply(354)) == .sendMessage(after: [], transfer: .data, arm: machine.timer(.dataTermination)))
        // The message and the final dot are out: a lost reply may mean it was delivered.
        guard case .mayHaveBeenSent? = machine.connectionClosed().sendResult else {
            Issue.record("expected may have been sent")
            return
        }
    }

    @Test(arguments: [1, 2, 3])
    func a421InsideAPipelinedDATAFlightIsNotSent(afterReplies: Int) {
        var machine = F.ready()
        _ = machine.sendRequested(F.request(), messageInHand: true)
        for _ in 0..<afterReplies { _ = machine.replyReceived(F.reply(250)) }
        let action = machine.replyReceived(F.reply(421, "4.4.2 timeout"))
        #expect(action.isClose)
        _ = expectNotSent(action, .connectionFailed)
    }

    @Test(arguments: [
        (SMTPExtensionUse(pipelining: false, chunking: true), [SMTPCommand.mail(reversePath: "from@example.com", parameters: ["SIZE=500"])]),
        (SMTPExtensionUse(pipelining: true, chunking: false), [
            .mail(reversePath: "from@example.com", parameters: ["SIZE=500"]),
            .rcpt(forwardPath: "a@example.com", parameters: []), .rcpt(forwardPath: "b@example.com", parameters: []), .data,
        ]),
        (SMTPExtensionUse(pipelining: false, chunking: false), [.mail(reversePath: "from@example.com", parameters: ["SIZE=500"])]),
    ])
    func extensionsTurnedOffByConfigurationAreNotUsed(extensions: SMTPExtensionUse, flight: [SMTPCommand]) {
        var machine = F.ready(Self.chunkingEHLO, extensions: extensions)
        let action = machine.sendRequested(F.request(), messageInHand: true)
        #expect(action.commands == flight)
        if !extensions.pipelining {
            _ = machine.replyReceived(F.reply(250))
            _ = machine.replyReceived(F.reply(250))
            let last = machine.replyReceived(F.reply(250))
            if extensions.chunking {
                #expect(last == .sendMessage(after: [Self.bdat], transfer: .bdat(size: 500), arm: machine.timer(.dataTermination)))
            } else {
                #expect(last == .send([.data], arm: machine.timer(.dataInitiation)))
            }
        }
    }

    @Test func bdatCommandLines() {
        #expect(SMTPCommand.bdat(size: 1234, last: true).wireLine == "BDAT 1234 LAST")
        #expect(SMTPCommand.bdat(size: 0, last: false).description == "BDAT 0")
    }
}

extension SMTPClientStateMachine.Action {
    var isSendMessage: Bool {
        if case .sendMessage = self { return true }
        return false
    }
}
