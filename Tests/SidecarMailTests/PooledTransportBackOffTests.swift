import SidecarCore
import SidecarPool
import SidecarSMTP
import Testing

@testable import SidecarMail

/// A server that asks to slow down (421, 454, a 4.7.x reply) lowers its pool's connection
/// count for a while (`PooledTransport.isThrottling`, the pool's `backOff`); other failures
/// do not.
@Suite struct PooledTransportBackOffTests {
    typealias Answer = FakeSMTPSessionFactory.Answer

    static let throttling: [Answer] = [
        .refused(.connectionFailed, SMTPReply(code: 421, enhancedCode: "4.7.0", text: "too many connections"), at: .mail),
        .refused(.senderRejected, SMTPReply(code: 454, enhancedCode: "4.7.0", text: "try later"), at: .mail),
        .refused(.recipientsRejected, SMTPReply(code: 451, enhancedCode: "4.7.1", text: "rate limited"), at: .rcpt),
    ]

    @Test(arguments: throttling)
    func aServerAskingToSlowDownBacksThePoolOff(_ answer: Answer) async throws {
        try await FakePool.with([answer]) { pool in
            let outcome = await pool.send()
            #expect(outcome.result.error != nil)
            #expect(pool.transport.pool.snapshot().totals.backoffs == 1)
        }
    }

    /// A server that refuses at its greeting: the connection is never made, and the pool
    /// backs off all the same.
    @Test func aGreetingOf421BacksThePoolOff() async throws {
        try await FakePool.with { pool in
            pool.factory.failNextCreations([SMTPFailure(
                error: SidecarError(
                    code: .connectionFailed, message: "busy", retryable: true,
                    smtp: SMTPReply(code: 421, enhancedCode: "4.3.2", text: "busy")),
                phase: .greeting)])
            let outcome = await pool.send()
            guard case .notSent(let failure) = outcome.result else {
                Issue.record("expected not_sent, got \(outcome.result)")
                return
            }
            #expect(failure.phase == .greeting)
            #expect(pool.transport.pool.snapshot().totals.backoffs == 1)
        }
    }

    /// A connection that cannot be made, with no reply asking to slow down (refused, reset):
    /// no back-off from the transport (the pool pauses only its prewarming, its own rule).
    @Test func aConnectionFailureWithoutAThrottlingReplyDoesNotBackOff() async throws {
        try await FakePool.with { pool in
            pool.factory.failNextCreations([SMTPFailure(
                error: SidecarError(code: .connectionFailed, message: "Connection refused.", retryable: true),
                phase: .connect)])
            let outcome = await pool.send()
            #expect(outcome.result.error?.code == .connectionFailed)
            #expect(pool.transport.pool.snapshot().totals.backoffs == 0)
        }
    }

    static let otherFailures: [Answer] = [
        .refused(.recipientsRejected, SMTPReply(code: 550, enhancedCode: "5.1.1", text: "User unknown"), at: .rcpt),
        .refused(.senderRejected, SMTPReply(code: 451, enhancedCode: "4.3.0", text: "local error"), at: .mail),
        .dropped(at: .mail),
    ]

    @Test(arguments: otherFailures)
    func otherFailuresDoNotBackOff(_ answer: Answer) async throws {
        try await FakePool.with([answer]) { pool in
            let outcome = await pool.send()
            #expect(outcome.result.error != nil)
            #expect(pool.transport.pool.snapshot().totals.backoffs == 0)
        }
    }

    @Test func aSentMessageDoesNotBackOff() async throws {
        try await FakePool.with([.sent]) { pool in
            #expect(await pool.send().result.error == nil)
            #expect(pool.transport.pool.snapshot().totals.backoffs == 0)
        }
    }
}
