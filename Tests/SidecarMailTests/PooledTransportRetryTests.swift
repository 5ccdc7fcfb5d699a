import SidecarCore
import SidecarPool
import SidecarSMTP
import Testing

@testable import SidecarMail

/// A reused pooled connection that fails before any recipient was accepted, in a way a
/// fresh connection could fix, is replaced once: the send goes again on a new connection
/// (`PooledTransport.send`, `isStaleConnectionFailure`). Never after a recipient was
/// accepted or the message went out, never for a fresh connection, never twice.
@Suite struct PooledTransportRetryTests {
    typealias Answer = FakeSMTPSessionFactory.Answer

    static let staleFailures: [Answer] = [
        .dropped(at: .mail),
        .dropped(at: .rcpt),
        .refused(.connectionFailed, SMTPReply(code: 421, enhancedCode: "4.4.2", text: "idle too long"), at: .mail),
        Answer(
            result: .notSent(SMTPSendFailure(error: SidecarError(code: .timeout, message: "no reply"), phase: .mail)),
            leavesUsable: false, errorReply: false),
    ]

    @Test(arguments: staleFailures)
    func aStaleReusedConnectionIsReplacedByAFreshOne(_ stale: Answer) async throws {
        try await FakePool.with([.sent, stale, .sent]) { pool in
            let first = await pool.send()
            #expect(first.result.error == nil)
            let second = await pool.send()
            #expect(second.result.error == nil, "sent on the fresh connection")
            #expect(second.retried)
            #expect(!second.reusedConnection)
            #expect(pool.factory.made == 2)
            #expect(pool.factory.transactions.map(\.session) == [1, 1, 2])
            #expect(pool.factory.deliveries == 2)
        }
    }

    /// A stale connection found by the RSET check of an idle connection: replaced too.
    @Test func aFailedHealthCheckIsReplacedByAFreshConnection() async throws {
        try await FakePool.with([.sent, .sent], configure: { $0.checkAfterIdle = .milliseconds(1) }) { pool in
            _ = await pool.send()
            try await Task.sleep(for: .milliseconds(20))
            pool.factory.failNextResets(1)
            let second = await pool.send()
            #expect(second.result.error == nil)
            #expect(second.retried)
            #expect(pool.factory.resets == [1])
            #expect(pool.factory.transactions.map(\.session) == [1, 2])
        }
    }

    @Test func theReplacementIsTriedOnlyOnce() async throws {
        try await FakePool.with([.sent, .dropped(at: .mail), .dropped(at: .mail), .sent]) { pool in
            _ = await pool.send()
            let second = await pool.send()
            #expect(second.result.error?.code == .connectionFailed)
            #expect(second.retried)
            #expect(pool.factory.transactions.map(\.session) == [1, 1, 2], "one retry, not a third attempt")
        }
    }

    /// A fresh connection that fails is the server's answer, not a stale session.
    @Test func aFreshConnectionsFailureIsNotRetried() async throws {
        try await FakePool.with([.dropped(at: .mail), .sent]) { pool in
            let outcome = await pool.send()
            #expect(outcome.result.error?.code == .connectionFailed)
            #expect(!outcome.retried)
            #expect(pool.factory.transactions.count == 1)
        }
    }

    static let notStale: [Answer] = [
        // The message went out: a second send could deliver it twice.
        .dropped(at: .data),
        // A recipient was accepted before the connection dropped.
        .dropped(
            at: .rcpt,
            recipients: [SMTPRecipientResult(address: "rcpt@example.test", reply: SMTPReply(code: 250, text: "OK"))]),
        // The server's answer to this message, which a fresh connection would get too.
        .refused(.senderRejected, SMTPReply(code: 550, enhancedCode: "5.7.1", text: "not allowed"), at: .mail),
    ]

    @Test(arguments: notStale)
    func aFailureAFreshConnectionCouldNotFixIsNotRetried(_ failure: Answer) async throws {
        try await FakePool.with([.sent, failure, .sent]) { pool in
            _ = await pool.send()
            let second = await pool.send()
            #expect(second.result.error != nil)
            #expect(!second.retried)
            #expect(second.reusedConnection)
            #expect(pool.factory.transactions.count == 2)
        }
    }
}
