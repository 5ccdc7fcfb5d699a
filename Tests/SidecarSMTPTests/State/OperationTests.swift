import NIOCore
import NIOEmbedded
import SidecarCore
import Testing

@testable import SidecarSMTP

/// The operation layer of ``SMTPClientStateMachine``: which promise an action answers, the
/// message in hand, the streamed body's progress and the connection's claim. Driven
/// synchronously; the promises come from an embedded loop and are only compared.
@Suite struct OperationTests {
    typealias F = Fixtures
    typealias Machine = SMTPClientStateMachine
    typealias Progress = SMTPClientStateMachine.TransactionProgress

    let loop = EmbeddedEventLoop()
    static let chunkingEHLO = F.fullEHLO + ["CHUNKING"]

    func promise() -> EventLoopPromise<Progress> { loop.makePromise(of: Progress.self) }

    /// The promise and progress an outcome answers a transaction with, if it does.
    func answered(_ outcome: Machine.Outcome?) -> (EventLoopFuture<Progress>, Progress)? {
        guard case .transaction(let promise, let progress)? = outcome?.answer else { return nil }
        return (promise.futureResult, progress)
    }

    func result(_ outcome: Machine.Outcome?, for promise: EventLoopPromise<Progress>, sourceLocation: SourceLocation = #_sourceLocation) -> SMTPSendResult? {
        guard let (future, progress) = answered(outcome) else {
            Issue.record("no answer in \(String(describing: outcome))", sourceLocation: sourceLocation)
            return nil
        }
        #expect(future === promise.futureResult, "answers the waiting promise", sourceLocation: sourceLocation)
        guard case .finished(let result) = progress else {
            Issue.record("not finished: \(progress)", sourceLocation: sourceLocation)
            return nil
        }
        return result
    }

    func start(
        _ machine: inout Machine,
        _ promise: EventLoopPromise<Progress>,
        message: ByteBuffer? = nil,
        size: Int? = 500,
        attached: Bool = true
    ) -> (started: Bool, outcome: Machine.Outcome) {
        machine.transactionRequested(
            F.request(["a@example.com"], size: size), options: SMTPSendOptions(), message: message, attached: attached,
            promise: promise)
    }

    // MARK: - Connect

    @Test func theConnectPromiseIsAnsweredWhenTheSessionIsReady() throws {
        var machine = F.machine()
        let connect = loop.makePromise(of: SMTPCapabilities.self)
        machine.connectRequested(connect)
        #expect(machine.settle(machine.channelActive()).answer == nil)
        #expect(machine.settle(machine.replyReceived(F.reply(220, "mx"))).answer == nil)
        let ready = machine.settle(machine.replyReceived(F.ehlo(["PIPELINING"])))
        guard case .connect(let promise, .success(let capabilities))? = ready.answer else {
            Issue.record("not answered: \(ready)")
            return
        }
        #expect(promise.futureResult === connect.futureResult)
        #expect(capabilities.pipelining)
        guard case .none = machine.operation else {
            Issue.record("still waiting: \(machine.operation)")
            return
        }
        connect.succeed(capabilities)
    }

    @Test func aLostConnectionFailsTheConnectPromise() throws {
        var machine = F.machine()
        let connect = loop.makePromise(of: SMTPCapabilities.self)
        machine.connectRequested(connect)
        _ = machine.settle(machine.channelActive())
        let closed = machine.settle(machine.connectionClosed())
        guard case .connect(_, .failure(let failure))? = closed.answer else {
            Issue.record("not answered: \(closed)")
            return
        }
        #expect(failure.error.code == .connectionFailed)
        #expect(failure.phase == .greeting)
        connect.fail(failure)
    }

    // MARK: - Message in hand

    @Test func theMessageInHandLeavesWithTheFlightAndTheFinalReplyAnswersThePromise() throws {
        var machine = F.ready(Self.chunkingEHLO)
        let waiting = promise()
        let message = ByteBuffer(string: "Subject: x\r\n\r\nhi\r\n")
        let (started, outcome) = start(&machine, waiting, message: message, size: message.readableBytes)
        #expect(started)
        guard case .sendMessage(_, .bdat, _) = outcome.action else {
            Issue.record("not one flight: \(outcome.action)")
            return
        }
        #expect(outcome.message == message, "the message is handed out with the action")
        #expect(outcome.answer == nil)
        guard case .transaction(_, message: nil) = machine.operation else {
            Issue.record("the machine still holds the message: \(machine.operation)")
            return
        }
        #expect(machine.settle(machine.replyReceived(F.reply(250))).answer == nil)
        #expect(machine.settle(machine.replyReceived(F.reply(250))).answer == nil)
        let done = machine.settle(machine.replyReceived(F.reply(250, "2.0.0 queued")))
        guard case .sent? = result(done, for: waiting) else {
            Issue.record("not sent")
            return
        }
        waiting.succeed(.finished(.notSent(SMTPSendFailure(error: .smtpConnectionUnusable(), phase: .mail))))
    }

    @Test func aSecondTransactionWhileOneIsInFlightIsBusyAndLeavesTheFirstAlone() {
        var machine = F.ready()
        let first = promise()
        #expect(start(&machine, first).started)
        let second = promise()
        let (started, outcome) = start(&machine, second)
        #expect(!started)
        #expect(outcome.action == .none)
        guard case .notSent(let failure)? = result(outcome, for: second) else { return }
        #expect(failure.error.message.contains("busy"))
        guard case .transaction(let waiting, _) = machine.operation else {
            Issue.record("the first transaction was dropped")
            return
        }
        #expect(waiting.futureResult === first.futureResult)
        first.succeed(.finished(.notSent(failure)))
        second.succeed(.finished(.notSent(failure)))
    }

    @Test func aTransactionOnADetachedHandlerIsUnusableAndStartsNothing() {
        var machine = F.ready()
        let waiting = promise()
        let (started, outcome) = start(&machine, waiting, attached: false)
        #expect(!started)
        #expect(outcome.action == .none)
        guard case .notSent(let failure)? = result(outcome, for: waiting) else { return }
        #expect(failure.error.message.contains("already closed"))
        #expect(machine.transactionsStarted == 0)
        waiting.succeed(.finished(.notSent(failure)))
    }

    // MARK: - Streamed body

    @Test func aStreamedDATABodyAnswersTheStartThenTheEnd() throws {
        var machine = F.ready()
        let starting = promise()
        _ = start(&machine, starting, size: nil)
        _ = machine.settle(machine.replyReceived(F.reply(250)))
        _ = machine.settle(machine.replyReceived(F.reply(250)))
        let go = machine.settle(machine.replyReceived(F.reply(354, "go")))
        guard let (future, progress) = answered(go), case .streamBody(.data) = progress else {
            Issue.record("not asked to stream: \(go)")
            return
        }
        #expect(future === starting.futureResult)
        guard case .write(let timer, nil) = machine.bodyChunkOffered(bytes: 10, attached: true) else {
            Issue.record("chunk refused")
            return
        }
        #expect(timer == machine.timer(.dataBlock))
        guard case .body(.data, written: 10) = machine.operation else {
            Issue.record("progress not kept: \(machine.operation)")
            return
        }
        let ending = promise()
        let end = machine.bodyEnded(ending)
        #expect(end.action == .send([.endOfData], arm: machine.timer(.dataTermination)))
        #expect(end.answer == nil)
        let done = machine.settle(machine.replyReceived(F.reply(250, "queued")))
        guard case .sent? = result(done, for: ending) else {
            Issue.record("not sent")
            return
        }
        starting.succeed(progress)
        ending.succeed(.finished(.notSent(SMTPSendFailure(error: .smtpConnectionUnusable(), phase: .mail))))
    }

    @Test func aTimeoutWhileStreamingInterruptsTheBodyAndItsEndCollectsTheResult() throws {
        var machine = F.ready()
        let starting = promise()
        _ = start(&machine, starting, size: nil)
        _ = machine.settle(machine.replyReceived(F.reply(250)))
        _ = machine.settle(machine.replyReceived(F.reply(250)))
        _ = machine.settle(machine.replyReceived(F.reply(354)))
        _ = machine.bodyChunkOffered(bytes: 10, attached: true)
        let timedOut = machine.settle(machine.timerFired())
        #expect(timedOut.action.isClose)
        #expect(timedOut.answer == nil, "nothing waits until the writer ends")
        guard case .refuse(nil) = machine.bodyChunkOffered(bytes: 10, attached: true) else {
            Issue.record("a chunk after the transaction ended was accepted")
            return
        }
        let ending = promise()
        guard case .notSent(let failure)? = result(machine.bodyEnded(ending), for: ending) else {
            Issue.record("expected not sent")
            return
        }
        #expect(failure.error.code == .timeout)
        guard case .none = machine.operation else {
            Issue.record("still waiting: \(machine.operation)")
            return
        }
        starting.succeed(.streamBody(.data))
        ending.succeed(.finished(.notSent(failure)))
    }

    /// A streamed flight with PIPELINING and CHUNKING: MAIL, RCPT and `BDAT 10 LAST` out.
    func streamingBDAT(_ starting: EventLoopPromise<Progress>) -> Machine {
        var machine = F.ready(Self.chunkingEHLO)
        let (_, outcome) = start(&machine, starting, size: 10)
        guard case .streamBody(_, .bdat(size: 10), _) = outcome.action else {
            Issue.record("not streaming BDAT: \(outcome.action)")
            return machine
        }
        return machine
    }

    @Test func theChunkThatCompletesBDATTellsTheProtocolAndAnEarlyReplyWaitsForTheEnd() throws {
        let starting = promise()
        var machine = streamingBDAT(starting)
        guard case .write(_, nil) = machine.bodyChunkOffered(bytes: 4, attached: true) else {
            Issue.record("first chunk")
            return
        }
        guard case .write(_, let then?) = machine.bodyChunkOffered(bytes: 6, attached: true) else {
            Issue.record("the last chunk did not tell the protocol")
            return
        }
        #expect(then.action == .armTimer(machine.timer(.mail)), "every byte out: MAIL's reply governs")
        guard case .bodyWritten = machine.operation else {
            Issue.record("not written: \(machine.operation)")
            return
        }
        _ = machine.settle(machine.replyReceived(F.reply(250)))
        _ = machine.settle(machine.replyReceived(F.reply(250)))
        let final = machine.settle(machine.replyReceived(F.reply(250, "queued")))
        #expect(final.answer == nil, "the writer has not ended yet")
        let ending = promise()
        guard case .sent? = result(machine.bodyEnded(ending), for: ending) else {
            Issue.record("not sent")
            return
        }
        starting.succeed(.streamBody(.bdat(size: 10)))
        ending.succeed(.streamBody(.bdat(size: 10)))
    }

    @Test func moreBytesThanBDATAnnouncedAreRefusedAndCloseTheConnection() throws {
        let starting = promise()
        var machine = streamingBDAT(starting)
        guard case .refuse(let then?) = machine.bodyChunkOffered(bytes: 11, attached: true) else {
            Issue.record("the oversized chunk was accepted")
            return
        }
        #expect(then.action.isClose)
        let ending = promise()
        guard case .notSent(let failure)? = result(machine.bodyEnded(ending), for: ending) else {
            Issue.record("expected not sent")
            return
        }
        #expect(failure.error.message.contains("10 were announced"))
        starting.succeed(.streamBody(.bdat(size: 10)))
        ending.succeed(.finished(.notSent(failure)))
    }

    @Test(arguments: [4, 10])
    func aBodyCutOffByTheHandlersRemovalEndsByHowMuchWasHandedOver(handedOver: Int) throws {
        let starting = promise()
        var machine = streamingBDAT(starting)
        _ = machine.bodyChunkOffered(bytes: handedOver, attached: true)
        #expect(machine.operationAbandoned(handlerRemoved: true) == nil)
        let ending = promise()
        switch result(machine.bodyAbandoned(SidecarError(code: .internalError, message: "x"), promise: ending), for: ending) {
        case .notSent(let failure)? where handedOver < 10:
            #expect(failure.phase == .data)
            #expect(failure.error.code == .connectionFailed)
        case .mayHaveBeenSent(let failure)? where handedOver == 10:
            #expect(failure.error.code == .outcomeUnknown)
        case let other:
            Issue.record("unexpected \(String(describing: other))")
        }
        starting.succeed(.streamBody(.bdat(size: 10)))
        ending.succeed(.streamBody(.bdat(size: 10)))
    }

    @Test func theChannelClosingWhileStreamingLeavesTheBodyToItsWriter() {
        let starting = promise()
        var machine = streamingBDAT(starting)
        _ = machine.bodyChunkOffered(bytes: 4, attached: true)
        let closed = machine.settle(machine.connectionClosed())
        #expect(closed.answer == nil)
        #expect(machine.operationAbandoned(handlerRemoved: false) == nil)
        guard case .bodyInterrupted(.notSent(let failure)) = machine.operation else {
            Issue.record("not interrupted: \(machine.operation)")
            return
        }
        #expect(failure.error.code == .connectionFailed)
        starting.succeed(.streamBody(.bdat(size: 10)))
    }

    // MARK: - Reset and claim

    @Test func resetIsAnsweredByRSETsReplyAndRefusedWhileBusy() {
        var machine = F.ready()
        let reset = loop.makePromise(of: Void.self)
        let (started, outcome) = machine.resetOperationRequested(attached: true, promise: reset)
        #expect(started)
        #expect(outcome.action == .send([.rset], arm: machine.timer(.reset)))
        let second = loop.makePromise(of: Void.self)
        guard case .reset(_, .failure(let busy))? = machine.resetOperationRequested(attached: true, promise: second).outcome.answer else {
            Issue.record("a second reset was not refused")
            return
        }
        #expect(busy.error.message.contains("busy"))
        guard case .reset(let answered, .success)? = machine.settle(machine.replyReceived(F.reply(250))).answer else {
            Issue.record("RSET not answered")
            return
        }
        #expect(answered.futureResult === reset.futureResult)
        reset.succeed(())
        second.succeed(())
    }

    @Test func oneClaimAtATime() {
        var machine = F.ready()
        let first = machine.claim()
        let second = machine.claim()
        #expect(first)
        #expect(!second, "a second operation is refused while the first holds the connection")
        #expect(machine.isClaimed)
        machine.releaseClaim()
        let afterRelease = machine.claim()
        #expect(afterRelease)
    }

    @Test func aCompletionNothingWaitsForIsMarked() {
        var machine = F.ready()
        // RSET started without the operation layer: nothing waits for its reply.
        _ = machine.resetRequested()
        let outcome = machine.settle(machine.replyReceived(F.reply(250)))
        #expect(outcome.unanswered)
        #expect(outcome.answer == nil)
    }
}
