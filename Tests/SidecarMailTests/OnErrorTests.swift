import SidecarCore
import SidecarProtocol
import SidecarSMTP
import SidecarState
import Testing

@testable import SidecarMail

/// `on_error` (proto-spec §5.4): `stop` (the default) makes a failed send an error response
/// with the result beside it; `continue` makes it a success whose `result.error` holds the
/// failure. Either way the send itself is the same (`MailOperations.finish`).
@Suite struct OnErrorTests {
    static let refused = FakeMailTransport.Answer.notSent(
        SidecarError(code: .recipientsRejected, message: "User unknown", smtp: SMTPReply(code: 550, text: "User unknown")),
        phase: .rcpt)

    @Test(arguments: [nil, SendParams.OnError.stop])
    func stopAnswersAFailedSendWithAnError(_ onError: SendParams.OnError?) async throws {
        let operations = SendFixtures.operations(FakeMailTransport([Self.refused]))
        let answer = await operations.send(SendFixtures.params(onError: onError))
        #expect(!answer.ok)
        #expect(answer.error?.code == .recipientsRejected)
        let result = try #require(answer.result, "the partial result goes with the error")
        #expect(result.outcome == .notSent)
        #expect(result.phase == "rcpt")
        #expect(result.error == nil, "the error is the response's, not repeated in the result")
    }

    @Test func continueAnswersAFailedSendWithASuccessCarryingTheError() async throws {
        let operations = SendFixtures.operations(FakeMailTransport([Self.refused]))
        let answer = await operations.send(SendFixtures.params(onError: .continue))
        #expect(answer.ok)
        let result = try #require(answer.result)
        #expect(result.outcome == .notSent)
        #expect(result.phase == "rcpt")
        #expect(result.error?.code == .recipientsRejected)
        #expect(result.error?.smtp?.code == 550)
    }

    @Test(arguments: [nil, SendParams.OnError.stop, .continue])
    func aSentMessageIsASuccessWhateverOnError(_ onError: SendParams.OnError?) async throws {
        let operations = SendFixtures.operations(FakeMailTransport([.sent]))
        let answer = await operations.send(SendFixtures.params(onError: onError))
        #expect(answer.ok)
        #expect(answer.result?.outcome == .sent)
        #expect(answer.error == nil)
    }

    /// A refusal before the SMTP server (here the rate limit) follows `on_error` too.
    @Test func continueAlsoCarriesARefusalBeforeTheServer() async throws {
        let state = try TemporaryState()
        let transport = FakeMailTransport()
        let operations = SendFixtures.operations(transport, rateLimiter: state.rateLimiter)
        let limits = CredentialParams.Limits(daily: 1)
        _ = await operations.send(SendFixtures.params(limits: limits))

        let stopped = await operations.send(SendFixtures.params(limits: limits, onError: .stop))
        #expect(!stopped.ok)
        #expect(stopped.error?.code == .rateLimited)

        let continued = await operations.send(SendFixtures.params(limits: limits, onError: .continue))
        #expect(continued.ok)
        #expect(continued.result?.outcome == .notSent)
        #expect(continued.result?.error?.code == .rateLimited)
        #expect(transport.sends.count == 1)
    }

    /// The duplicate of a send whose outcome is unknown answers `outcome_unknown`, as an
    /// error with `stop` and inside the result with `continue`.
    @Test func aDuplicateOfAnUnknownOutcomeFollowsOnError() async throws {
        let state = try TemporaryState()
        let transport = FakeMailTransport([.mayHaveBeenSent])
        let operations = SendFixtures.operations(transport, dedup: state.dedup)
        _ = await operations.send(SendFixtures.params(window: 3600))

        let stopped = await operations.send(SendFixtures.params(window: 3600, onError: .stop))
        #expect(!stopped.ok)
        #expect(stopped.error?.code == .outcomeUnknown)
        #expect(stopped.result?.duplicate == true)

        let continued = await operations.send(SendFixtures.params(window: 3600, onError: .continue))
        #expect(continued.ok)
        #expect(continued.result?.duplicate == true)
        #expect(continued.result?.error?.code == .outcomeUnknown)
        #expect(transport.sends.count == 1)
    }
}
