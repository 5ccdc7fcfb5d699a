import SidecarCore
import Testing

@testable import SidecarSMTP

/// ``SMTPRefusalRetry``: after a 421 that followed refused recipients, send again to the
/// others; report the refused ones; stop when nothing new is refused.
@Suite struct RefusalRetryTests {
    static func reply(_ code: Int) -> SMTPReply { SMTPReply(code: code, enhancedCode: nil, text: code < 400 ? "Ok" : "nope") }
    static func answered(_ address: String, _ code: Int) -> SMTPRecipientResult { SMTPRecipientResult(address: address, reply: reply(code)) }

    static func closed(_ recipients: [SMTPRecipientResult]) -> SMTPSendResult {
        .notSent(SMTPSendFailure(
            error: SidecarError(code: .connectionFailed, message: "421", retryable: true, smtp: reply(421)), phase: .rcpt,
            recipients: recipients, closedBeforeMessage: true))
    }

    @Test func sendsAgainWithoutTheRefusedAndReportsThem() {
        var retry = SMTPRefusalRetry(recipients: ["g1", "b1", "g2", "b2", "b3"])
        let first = Self.closed([Self.answered("g1", 250), Self.answered("b1", 550), Self.answered("g2", 250), Self.answered("b2", 550), Self.answered("b3", 550)])
        #expect(retry.next(after: first) == .retry(recipients: ["g1", "g2"]))
        let delivered = SMTPSendResult.sent(SMTPDelivery(reply: Self.reply(250), recipients: [Self.answered("g1", 250), Self.answered("g2", 250)]))
        guard case .finish(.sent(let delivery)) = retry.next(after: delivered) else {
            Issue.record("not finished as sent")
            return
        }
        #expect(delivery.recipients.map(\.address) == ["g1", "b1", "g2", "b2", "b3"])
        #expect(delivery.rejectedRecipients.map(\.address) == ["b1", "b2", "b3"])
        #expect(delivery.acceptedRecipients.map(\.address) == ["g1", "g2"])
    }

    @Test func keepsGoingWhileEachAttemptRefusesMoreAndStopsAtTheCap() {
        var retry = SMTPRefusalRetry(recipients: ["b1", "b2", "b3", "b4", "g"], maximumRetries: 2)
        #expect(retry.next(after: Self.closed([Self.answered("b1", 550), Self.answered("b2", 550)])) == .retry(recipients: ["b3", "b4", "g"]))
        #expect(retry.next(after: Self.closed([Self.answered("b3", 550)])) == .retry(recipients: ["b4", "g"]))
        // The cap: the third 421 is the answer, with every refusal known.
        guard case .finish(.notSent(let failure)) = retry.next(after: Self.closed([Self.answered("b4", 550)])) else {
            Issue.record("expected to finish")
            return
        }
        #expect(failure.recipients.map(\.address) == ["b1", "b2", "b3", "b4"])
    }

    @Test func a421WithNothingRefusedIsTheAnswer() {
        var retry = SMTPRefusalRetry(recipients: ["g1", "g2"])
        let result = Self.closed([Self.answered("g1", 250)])
        #expect(retry.next(after: result) == .finish(result))
        #expect(!SMTPRefusalRetry.closedAfterRefusals(result))
    }

    @Test func everyRecipientRefusedIsRecipientsRejected() {
        var retry = SMTPRefusalRetry(recipients: ["b1", "b2"])
        guard case .finish(.notSent(let failure)) = retry.next(after: Self.closed([Self.answered("b1", 550), Self.answered("b2", 550)])) else {
            Issue.record("expected to finish")
            return
        }
        #expect(failure.error.code == .recipientsRejected)
        #expect(!failure.error.retryable)
        #expect(failure.recipients.map(\.address) == ["b1", "b2"])
    }

    @Test func aFailureThatIsNotA421BeforeTheMessageIsTheAnswerUntouched() {
        var retry = SMTPRefusalRetry(recipients: ["g1", "b1"])
        let rejected = SMTPSendResult.notSent(SMTPSendFailure(
            error: SidecarError(code: .messageRejected, message: "no", retryable: false), phase: .data,
            recipients: [Self.answered("g1", 250), Self.answered("b1", 550)]))
        #expect(retry.next(after: rejected) == .finish(rejected))
    }
}
