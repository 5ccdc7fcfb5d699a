import Testing

@testable import SidecarState

@Suite("DedupDecision")
struct DedupDecisionTests {
    private func record(_ state: DedupRecord.State, created: Int64 = 1_000, expires: Int64 = 3_601_000) -> DedupRecord {
        DedupRecord(
            key: "k", state: state, resultJSON: state == .done ? #"{"outcome":"sent"}"# : nil, createdMs: created,
            expiresMs: expires, owner: "o", token: "t"
        )
    }

    private let stale: Int64 = 600_000

    @Test("no record: proceed")
    func empty() {
        #expect(DedupDecision.decide(record: nil, nowMs: 5, staleAfterMs: stale, ownerIsAlive: nil) == .proceed)
    }

    @Test("done within the window: duplicate; at or after expiry: proceed")
    func done() {
        #expect(
            DedupDecision.decide(record: record(.done), nowMs: 3_600_999, staleAfterMs: stale, ownerIsAlive: false)
                == .duplicate(resultJSON: #"{"outcome":"sent"}"#)
        )
        #expect(DedupDecision.decide(record: record(.done), nowMs: 3_601_000, staleAfterMs: stale, ownerIsAlive: false) == .proceed)
    }

    @Test("pending with a live or unknown owner, not stale: in progress (even past the window)", arguments: [true, nil] as [Bool?])
    func pendingLive(alive: Bool?) {
        #expect(DedupDecision.decide(record: record(.pending), nowMs: 2_000, staleAfterMs: stale, ownerIsAlive: alive) == .inProgress)
        let short = record(.pending, expires: 1_500)
        #expect(DedupDecision.decide(record: short, nowMs: 2_000, staleAfterMs: stale, ownerIsAlive: alive) == .inProgress)
    }

    @Test("pending whose owner died: abandoned (may have been sent) within the window, proceed after")
    func pendingDead() {
        #expect(
            DedupDecision.decide(record: record(.pending), nowMs: 2_000, staleAfterMs: stale, ownerIsAlive: false)
                == .abandoned(createdMs: 1_000)
        )
        #expect(DedupDecision.decide(record: record(.pending), nowMs: 3_601_000, staleAfterMs: stale, ownerIsAlive: false) == .proceed)
    }

    // Issue 21 item 16: a record becomes "may have been sent" only when its transaction
    // may have begun. Before that it is `reserved`, and a dead owner's reservation frees the key.
    @Test("reserved with a live or unknown owner, not stale: in progress", arguments: [true, nil] as [Bool?])
    func reservedLive(alive: Bool?) {
        #expect(DedupDecision.decide(record: record(.reserved), nowMs: 2_000, staleAfterMs: stale, ownerIsAlive: alive) == .inProgress)
    }

    @Test("reserved whose owner died: proceed at once (nothing was sent); pending whose owner died: abandoned")
    func reservedDead() {
        #expect(DedupDecision.decide(record: record(.reserved), nowMs: 2_000, staleAfterMs: stale, ownerIsAlive: false) == .proceed)
        #expect(
            DedupDecision.decide(record: record(.pending), nowMs: 2_000, staleAfterMs: stale, ownerIsAlive: false)
                == .abandoned(createdMs: 1_000))
    }

    @Test("reserved older than the stale limit: proceed even if the owner runs")
    func reservedStale() {
        #expect(DedupDecision.decide(record: record(.reserved), nowMs: 1_000 + stale, staleAfterMs: stale, ownerIsAlive: true) == .proceed)
    }

    @Test("pending older than the stale limit: abandoned even if the owner runs")
    func pendingStale() {
        #expect(
            DedupDecision.decide(record: record(.pending), nowMs: 1_000 + stale, staleAfterMs: stale, ownerIsAlive: true)
                == .abandoned(createdMs: 1_000)
        )
    }
}
