import FoundationEssentials
import SidecarCore
import SidecarProtocol
import SidecarSMTP
import SidecarState
import Testing

@testable import SidecarMail

/// Duplicate suppression around one send (`MailOperations.send`): the record is marked
/// "may have been sent" before the message may leave, completed with the result after a
/// send that may have gone out, and released after one that did not.
@Suite struct DedupCompletionTests {
    static let window = 3600

    @Test func aSentMessageAnswersAnIdenticalSendAsADuplicate() async throws {
        let state = try TemporaryState()
        let transport = FakeMailTransport([.sent])
        let operations = SendFixtures.operations(transport, dedup: state.dedup)

        let first = await operations.send(SendFixtures.params(window: Self.window))
        let second = await operations.send(SendFixtures.params(window: Self.window))
        #expect(first.result?.outcome == .sent)
        #expect(first.result?.duplicate == false)
        #expect(second.ok)
        #expect(second.result?.outcome == .sent)
        #expect(second.result?.duplicate == true)
        #expect(second.result?.messageID == first.result?.messageID, "the duplicate answers the first send's result")
        #expect(transport.sends.count == 1)
    }

    @Test func aRefusedSendIsReleasedSoThatARetrySends() async throws {
        let state = try TemporaryState()
        let refusal = SidecarError(code: .connectionFailed, message: "refused", retryable: true)
        let transport = FakeMailTransport([.notSent(refusal, phase: .connect), .sent])
        let operations = SendFixtures.operations(transport, dedup: state.dedup)

        let first = await operations.send(SendFixtures.params(window: Self.window))
        let retry = await operations.send(SendFixtures.params(window: Self.window))
        #expect(first.error?.code == .connectionFailed)
        #expect(retry.result?.outcome == .sent)
        #expect(retry.result?.duplicate == false)
        #expect(transport.sends.count == 2)
    }

    /// Not sent before the transport (a URL attachment this sidecar will not fetch): the
    /// record is released as well.
    @Test func aSendStoppedBeforeTheServerIsReleased() async throws {
        let state = try TemporaryState()
        let transport = FakeMailTransport()
        let operations = SendFixtures.operations(transport, dedup: state.dedup)
        var params = SendFixtures.params(window: Self.window)
        params.attachments = [AttachmentParams(filename: "a.pdf", url: "https://files.example.test/a.pdf")]

        #expect(await operations.send(params).error?.code == .attachmentFetchFailed)
        #expect(await operations.send(params).error?.code == .attachmentFetchFailed, "not the first's result as a duplicate")
        #expect(await operations.send(params).result?.duplicate == false)
    }

    /// The message went out with no final reply: an identical send must not send it again.
    @Test func anUnknownOutcomeAnswersAnIdenticalSendAsADuplicate() async throws {
        let state = try TemporaryState()
        let transport = FakeMailTransport([.mayHaveBeenSent, .sent])
        let operations = SendFixtures.operations(transport, dedup: state.dedup)

        _ = await operations.send(SendFixtures.params(window: Self.window))
        let second = await operations.send(SendFixtures.params(window: Self.window))
        #expect(second.result?.duplicate == true)
        #expect(second.error?.code == .outcomeUnknown)
        #expect(transport.sends.count == 1)
    }

    /// The transport gets a step that writes the record "may have been sent" to the
    /// database: while the message is in flight, another process sees the send in progress
    /// (without the mark only this process's memory knows of it, and another would send).
    @Test func theMarkBeforeTheMessageIsOnDiskWhileItIsInFlight() async throws {
        let state = try TemporaryState()
        let params = SendFixtures.params(window: Self.window)
        let key = params.dedupKey(credential: params.credential!)
        let otherProcess = DedupStore(database: state.database, identity: ProcessIdentity(owner: "other-host:1"))
        let seen = Observed<DedupBegin>()
        let transport = FakeMailTransport(inFlight: {
            seen.value = try? otherProcess.begin(key: key, window: .seconds(Self.window), now: Date())
        })
        let operations = SendFixtures.operations(transport, dedup: state.dedup)

        #expect(await operations.send(params).result?.outcome == .sent)
        #expect(transport.sends.first?.hadStep == true)
        #expect(transport.sends.first?.stepError == nil)
        #expect(seen.value == .inProgress)
    }

    /// Without duplicate suppression (window 0) there is nothing to mark: no step.
    @Test func aSendWithoutDedupHasNoStep() async throws {
        let state = try TemporaryState()
        let transport = FakeMailTransport()
        let operations = SendFixtures.operations(transport, dedup: state.dedup)
        #expect(await operations.send(SendFixtures.params(window: 0)).result?.outcome == .sent)
        #expect(transport.sends.first?.hadStep == false)
    }

    /// When the mark cannot be made (here: the send's reservation was given up and an
    /// identical send took it over), the step throws and nothing is sent; the send answers
    /// `not_sent` and gives its rate-limit slot back.
    @Test func aFailedMarkSendsNothing() async throws {
        // Stale at once: an identical request takes the reservation over.
        let state = try TemporaryState(staleAfter: .zero)
        let params = SendFixtures.params(window: Self.window, limits: CredentialParams.Limits(daily: 1))
        let key = params.dedupKey(credential: params.credential!)
        let dedup = state.dedup
        let transport = FakeMailTransport(beforeStep: {
            try? await Task.sleep(for: .milliseconds(5))
            _ = try? dedup.begin(key: key, window: .seconds(Self.window), now: Date())
        })
        let operations = SendFixtures.operations(transport, dedup: state.dedup, rateLimiter: state.rateLimiter)

        let answer = await operations.send(params)
        #expect(!answer.ok)
        #expect(answer.error?.code == .internalError)
        #expect(answer.result?.outcome == .notSent)
        #expect(transport.sends.first?.stepError != nil)
        #expect(transport.deliveries == 0)
        #expect(try state.rateLimiter.sendsInLastDay(key: params.rateKey(credential: params.credential!), now: Date()) == 0)
    }
}
