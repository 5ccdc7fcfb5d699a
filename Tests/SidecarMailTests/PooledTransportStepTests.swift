import SidecarCore
import SidecarSMTP
import Synchronization
import Testing

@testable import SidecarMail

/// The send's step before its message (the dedup mark) as ``PooledTransport`` runs it: on
/// every connection the send is tried on, awaited before the content leaves, and when it
/// fails nothing is delivered and the connection is dropped.
@Suite struct PooledTransportStepTests {
    @Test func theMessageWaitsForTheStep() async throws {
        try await FakePool.with([.sent]) { pool in
            let factory = pool.factory
            // Deliveries when the step ended; a slow step, so that a message not waiting
            // for it is out before it ends.
            let deliveredBeforeStepEnded = Mutex<Int?>(nil)
            let outcome = await pool.send(beforeTransaction: { () async throws(SidecarError) in
                try? await Task.sleep(for: .milliseconds(100))
                deliveredBeforeStepEnded.withLock { $0 = factory.deliveries }
            })
            #expect(outcome.result.error == nil)
            #expect(deliveredBeforeStepEnded.withLock { $0 } == 0)
            #expect(pool.factory.deliveries == 1)
        }
    }

    @Test func aFailedStepSendsNothingAndDropsTheConnection() async throws {
        try await FakePool.with([.sent]) { pool in
            let outcome = await pool.send(beforeTransaction: { () async throws(SidecarError) in
                throw SidecarError(code: .internalError, message: "The mark failed.")
            })
            guard case .notSent(let failure) = outcome.result else {
                Issue.record("expected not_sent, got \(outcome.result)")
                return
            }
            #expect(failure.error.message == "The mark failed.")
            #expect(failure.phase == .data)
            #expect(pool.factory.deliveries == 0)
            #expect(pool.factory.transactions.count == 1)
            // Released with .discard: closed at once, without QUIT.
            try await waitUntil { pool.factory.closes == [FakeSMTPSessionFactory.Close(session: 1, gracefully: false)] }
        }
    }

    /// Retried on a fresh connection, the send brings its step there as well.
    @Test func aRetryRunsTheStepOnTheFreshConnection() async throws {
        try await FakePool.with([.sent, .dropped(at: .mail), .sent]) { pool in
            _ = await pool.send()
            let ran = Mutex(0)
            let outcome = await pool.send(beforeTransaction: { () async throws(SidecarError) in
                ran.withLock { $0 += 1 }
            })
            #expect(outcome.retried)
            #expect(outcome.result.error == nil)
            #expect(ran.withLock { $0 } == 2)
        }
    }
}
