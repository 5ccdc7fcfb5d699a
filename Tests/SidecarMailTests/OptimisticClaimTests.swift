import FoundationEssentials
import SidecarCore
import SidecarProtocol
import SidecarState
import Synchronization
import Testing

@testable import SidecarMail

/// A send that counts no rate limit claims its duplicate-suppression key optimistically, at
/// its `pending` mark. When the mark finds the key held by an identical send of another
/// host, nothing was sent, and the send answers with that send's result, as the careful
/// way would have.
@Suite struct OptimisticClaimTests {
    static let window = 3600

    @Test func aLostClaimAnswersTheIdenticalSendsResultAndSendsNothing() async throws {
        let earlier = SendResult(outcome: .sent, messageID: "<earlier@host-b.example>")
        let store = ClaimedElsewhereStore(resultJSON: earlier.jsonText)
        let transport = FakeMailTransport([.sent])
        let operations = MailOperations(
            settings: MailSettings(), transport: transport,
            policy: MailPolicy(destinations: SendFixtures.loopback, dedup: store))

        let answer = await operations.send(SendFixtures.params(window: Self.window))
        #expect(answer.ok)
        #expect(answer.result?.duplicate == true)
        #expect(answer.result?.messageID == "<earlier@host-b.example>")
        #expect(transport.sends.count == 1, "one try reached its connection")
        #expect(transport.sends.first?.stepError != nil, "its mark stopped it")
        #expect(transport.deliveries == 0)
        // Optimistic first; the lost ticket is released (not sent); then the careful way.
        #expect(store.calls == ["optimistic", "mark", "completeLater sent=false", "begin"])
    }

    @Test func aSendThatCountsARateLimitClaimsBeforeItSends() async throws {
        let state = try TemporaryState()
        let earlier = SendResult(outcome: .sent, messageID: "<earlier@host-b.example>")
        let store = ClaimedElsewhereStore(resultJSON: earlier.jsonText)
        let transport = FakeMailTransport([.sent])
        let operations = MailOperations(
            settings: MailSettings(), transport: transport,
            policy: MailPolicy(destinations: SendFixtures.loopback, dedup: store, rateLimiter: state.rateLimiter))

        let answer = await operations.send(SendFixtures.params(window: Self.window, limits: CredentialParams.Limits(daily: 1)))
        #expect(answer.result?.duplicate == true)
        #expect(transport.sends.isEmpty)
        #expect(store.calls == ["begin"], "a duplicate must not take a rate-limit slot, even for a while")
    }

    @Test func onOneHostTheDefaultSendStillSendsOnceAndAnswersDuplicates() async throws {
        let state = try TemporaryState()
        let transport = FakeMailTransport([.sent, .sent])
        let operations = SendFixtures.operations(transport, dedup: state.dedup)

        let answers = await withTaskGroup(of: SendAnswer.self) { group in
            for _ in 0..<4 { group.addTask { await operations.send(SendFixtures.params(window: Self.window)) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.filter { !$0.ok }.isEmpty)
        #expect(answers.filter { $0.result?.duplicate == false }.count == 1)
        #expect(transport.deliveries == 1)
    }
}

/// A shared store where an identical send of another host holds every key: an optimistic
/// begin proceeds, the mark loses, and the careful begin answers that send's result.
private final class ClaimedElsewhereStore: DedupStoring {
    let resultJSON: String
    private let recorded = Mutex<[String]>([])

    init(resultJSON: String) {
        self.resultJSON = resultJSON
    }

    var calls: [String] { recorded.withLock { $0 } }

    private func record(_ call: String) {
        recorded.withLock { $0.append(call) }
    }

    func begin(key: String, window: Duration, deadline: ContinuousClock.Instant?) async throws -> DedupResolution {
        record("begin")
        return .duplicate(resultJSON: resultJSON)
    }

    func beginOptimistically(key: String, window: Duration, deadline: ContinuousClock.Instant?) async throws
        -> DedupResolution
    {
        record("optimistic")
        return .proceed(DedupTicket(key: key, token: "optimistic-token", createdMs: 1, expiresMs: 2))
    }

    func markPending(_ ticket: DedupTicket) async throws -> Bool {
        record("mark")
        return false
    }

    func complete(_ ticket: DedupTicket, resultJSON: String, countsAsSent: Bool) async throws -> Bool {
        record("complete sent=\(countsAsSent)")
        return false
    }

    func completeLater(
        _ ticket: DedupTicket, resultJSON: String, countsAsSent: Bool, onFailure: @escaping @Sendable (any Error) -> Void
    ) {
        record("completeLater sent=\(countsAsSent)")
    }

    func purgeExpired(now: Date) async throws -> Int { 0 }

    func flush() async {}
}
