import Foundation
import SidecarCore
import Testing

@testable import SidecarMail

@Suite struct CredentialHealthTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let c1 = CredentialHealth.Key(workspace: "w1", id: "c1")

    @Test func theNewestSuccessAndFailureWinInWhateverOrderTheyArrive() {
        var health = CredentialHealth()
        health.succeeded(c1, at: t0.addingTimeInterval(10))
        health.succeeded(c1, at: t0)
        health.failed(c1, error: SidecarError(code: .authFailed, message: "535 no"), at: t0.addingTimeInterval(20))
        health.failed(c1, error: SidecarError(code: .timeout, message: "late"), at: t0.addingTimeInterval(5))
        let entry = health.entry(c1)
        #expect(entry?.lastSuccess == t0.addingTimeInterval(10))
        #expect(entry?.lastFailure == .init(code: .authFailed, message: "535 no", at: t0.addingTimeInterval(20)))
        // A success does not clear the failure: both are reported with their times.
        health.succeeded(c1, at: t0.addingTimeInterval(30))
        #expect(health.entry(c1)?.lastFailure?.code == .authFailed)
        #expect(health.entry(c1)?.lastSuccess == t0.addingTimeInterval(30))
    }

    @Test func credentialsAreKeptApartByWorkspaceAndId() {
        var health = CredentialHealth()
        health.succeeded(c1, at: t0)
        health.failed(.init(workspace: "w2", id: "c1"), error: SidecarError(code: .authFailed, message: "x"), at: t0)
        #expect(health.entry(c1)?.lastFailure == nil)
        #expect(health.entry(.init(workspace: "w2", id: "c1"))?.lastSuccess == nil)
        #expect(health.entry(.init(workspace: "w1", id: "c2")) == nil)
    }

    @Test func aLongMessageIsShortenedAndRemovedCredentialsAreForgotten() {
        var health = CredentialHealth()
        health.failed(c1, error: SidecarError(code: .recipientsRejected, message: String(repeating: "x", count: 2000)), at: t0)
        #expect(health.entry(c1)?.lastFailure?.message.count == CredentialHealth.maxMessageLength)
        let c2 = CredentialHealth.Key(workspace: "w1", id: "c2")
        health.succeeded(c2, at: t0)
        health.keepOnly([c2])
        #expect(health.entry(c1) == nil && health.entry(c2) != nil)
    }

    @Test func theRecorderStampsOutcomesWithItsClock() {
        let clock = Observed<Date>()
        clock.value = t0
        let recorder = CredentialHealthRecorder(now: { clock.value ?? .distantPast })
        recorder.succeeded(workspace: "w1", id: "c1")
        clock.value = t0.addingTimeInterval(1)
        recorder.failed(workspace: "w1", id: "c1", error: SidecarError(code: .authFailed, message: "535"))
        recorder.succeeded(workspace: "w1", id: "gone")
        let entries = recorder.entries()
        #expect(entries[c1]?.lastSuccess == t0)
        #expect(entries[c1]?.lastFailure?.at == t0.addingTimeInterval(1))
        #expect(recorder.entries(everyStored: [c1]).keys.sorted { $0.id < $1.id } == [c1])
    }
}
