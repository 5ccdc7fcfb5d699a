import FoundationEssentials
import SidecarCore
import SidecarProtocol
import SidecarSMTP
import SidecarState
import Testing

@testable import SidecarMail

/// A send counts against its credential's rate limit only if it may have gone out: one the
/// server refused, or one stopped before reaching it, gives its slot back
/// (`MailOperations.sendChecked`, its `refund`).
@Suite struct RateLimitRefundTests {
    /// One send a day: a second send is refused unless the first was refunded.
    static let oneADay = CredentialParams.Limits(daily: 1)

    static func counted(_ state: TemporaryState, _ params: SendParams) throws -> Int {
        try state.rateLimiter.sendsInLastDay(key: params.rateKey(credential: params.credential!), now: Date())
    }

    static let refusals: [FakeMailTransport.Answer] = [
        .notSent(SidecarError(code: .connectionFailed, message: "refused", retryable: true), phase: .connect),
        .notSent(SidecarError(code: .authFailed, message: "535", smtp: SMTPReply(code: 535, text: "no")), phase: .auth),
        .notSent(
            SidecarError(code: .recipientsRejected, message: "550", smtp: SMTPReply(code: 550, text: "no")), phase: .rcpt),
    ]

    @Test(arguments: refusals)
    func aSendTheServerRefusedGivesItsSlotBack(_ refusal: FakeMailTransport.Answer) async throws {
        let state = try TemporaryState()
        let transport = FakeMailTransport([refusal])
        let operations = SendFixtures.operations(transport, rateLimiter: state.rateLimiter)
        let params = SendFixtures.params(limits: Self.oneADay)

        let refused = await operations.send(params)
        #expect(refused.result?.outcome == .notSent)
        #expect(try Self.counted(state, params) == 0)

        let retried = await operations.send(params)
        #expect(retried.result?.outcome == .sent, "the refunded slot lets the retry go")
        #expect(transport.sends.count == 2)
        #expect(try Self.counted(state, params) == 1)
    }

    @Test func aSentMessageKeepsItsSlot() async throws {
        let state = try TemporaryState()
        let transport = FakeMailTransport([.sent])
        let operations = SendFixtures.operations(transport, rateLimiter: state.rateLimiter)
        let params = SendFixtures.params(limits: Self.oneADay)

        #expect(await operations.send(params).result?.outcome == .sent)
        #expect(try Self.counted(state, params) == 1)

        let over = await operations.send(params)
        #expect(over.error?.code == .rateLimited)
        #expect(over.result?.outcome == .notSent)
        #expect(transport.sends.count == 1, "the send over the limit never reached the transport")
    }

    /// The message went out without a final reply: it may have been delivered, so it counts.
    @Test func anUnknownOutcomeKeepsItsSlot() async throws {
        let state = try TemporaryState()
        let transport = FakeMailTransport([.mayHaveBeenSent])
        let operations = SendFixtures.operations(transport, rateLimiter: state.rateLimiter)
        let params = SendFixtures.params(limits: Self.oneADay)

        let unknown = await operations.send(params)
        #expect(unknown.result?.outcome == .outcomeUnknown)
        #expect(unknown.error?.code == .outcomeUnknown)
        #expect(try Self.counted(state, params) == 1)
        #expect(await operations.send(params).error?.code == .rateLimited)
        #expect(transport.sends.count == 1)
    }

    /// A send that took a slot and then failed before the transport (here a URL attachment
    /// in a sidecar that fetches none) gives it back.
    @Test func aSendStoppedBeforeTheServerGivesItsSlotBack() async throws {
        let state = try TemporaryState()
        let transport = FakeMailTransport()
        let operations = SendFixtures.operations(transport, rateLimiter: state.rateLimiter)
        var params = SendFixtures.params(limits: Self.oneADay)
        params.attachments = [AttachmentParams(filename: "a.pdf", url: "https://files.example.test/a.pdf")]

        let refused = await operations.send(params)
        #expect(refused.error?.code == .attachmentFetchFailed)
        #expect(transport.sends.isEmpty)
        #expect(try Self.counted(state, params) == 0)
    }

    /// A send over the limit is refused before the transport, and costs no slot of its own.
    @Test func aRateLimitedSendIsNotCounted() async throws {
        let state = try TemporaryState()
        let transport = FakeMailTransport()
        let operations = SendFixtures.operations(transport, rateLimiter: state.rateLimiter)
        let params = SendFixtures.params(limits: CredentialParams.Limits(daily: 2))

        #expect(await operations.send(params).result?.outcome == .sent)
        #expect(await operations.send(params).result?.outcome == .sent)
        let over = await operations.send(params)
        #expect(over.error?.code == .rateLimited)
        #expect(over.error?.retryAfterMs != nil)
        #expect(try Self.counted(state, params) == 2)
        #expect(transport.sends.count == 2)
    }
}
