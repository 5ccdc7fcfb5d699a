import SidecarCore
import SidecarSMTP
import Synchronization
import Testing

@testable import SidecarMail

/// The send's step before its message (the dedup mark) as ``PooledTransport`` runs it: on
/// every connection the send is tried on, awaited before the content leaves, and when it
/// fails nothing is delivered. A send alone sends its envelope ahead (a failed step then
/// drops the connection); a send among others awaits the step before writing anything (a
/// failed step then leaves the connection as it was).
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

    /// Alone, the envelope goes ahead of the step; while another send is in flight, the
    /// step comes first, and a failed one leaves the connection usable for the next send.
    @Test func amongOtherSendsTheStepComesFirst() async throws {
        try await FakePool.with { pool in
            let alone = await pool.send(beforeTransaction: { () async throws(SidecarError) in })
            #expect(alone.result.error == nil)
            #expect(pool.factory.gateFirsts == [false])

            // A first send holds its step open until the second one has run its own.
            let secondDone = Mutex(false)
            let first = Task {
                await pool.send(beforeTransaction: { () async throws(SidecarError) in
                    while !secondDone.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(5)) }
                })
            }
            while pool.factory.gateFirsts.count < 2 { try await Task.sleep(for: .milliseconds(5)) }
            let second = await pool.send(beforeTransaction: { () async throws(SidecarError) in
                throw SidecarError(code: .internalError, message: "The mark failed.")
            })
            secondDone.withLock { $0 = true }
            #expect(await first.value.result.error == nil)
            #expect(pool.factory.gateFirsts == [false, false, true])
            guard case .notSent(let failure) = second.result else {
                Issue.record("expected not_sent, got \(second.result)")
                return
            }
            #expect(failure.error.message == "The mark failed.")
            #expect(failure.phase == .mail)
            // Nothing of its transaction reached a server, and no connection was dropped.
            #expect(pool.factory.transactions.count == 2)
            #expect(pool.factory.deliveries == 2)
            #expect(pool.factory.closes.isEmpty)
        }
    }
}
