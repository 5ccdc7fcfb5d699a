import CoreMetrics
import FoundationEssentials
import MetricsTestKit
import SidecarCore
import SidecarPool
import SidecarProtocol
import SidecarSMTP
import SidecarState
import Testing

@testable import SidecarMail

/// What the mail engine records in its metrics (`MailMetrics`), on a factory of the test's
/// own: the global `MetricsSystem` is never bootstrapped here.
@Suite struct MailMetricsTests {
    static func operations(
        _ transport: FakeMailTransport, metrics: TestMetrics, dedup: (any DedupStoring)? = nil,
        rateLimiter: RateLimiter? = nil
    ) -> MailOperations {
        MailOperations(
            settings: MailSettings(), transport: transport,
            policy: MailPolicy(destinations: SendFixtures.loopback, dedup: dedup, rateLimiter: rateLimiter),
            metrics: MailMetrics(factory: metrics))
    }

    static func sends(_ metrics: TestMetrics, _ outcome: String, _ code: String) -> Int64 {
        metrics.counterTotal(label: "smtp_sidecar_sends_total", dimensions: [("outcome", outcome), ("code", code)])
    }

    static func durations(_ metrics: TestMetrics, _ stage: String) throws -> [Int64] {
        try metrics.expectTimer("smtp_sidecar_send_duration_seconds", [("stage", stage)]).values
    }

    /// Sent, refused by the server, delivered without a reply, refused before SMTP (mail
    /// loop, invalid params), then over the rate limit: each counted once under its outcome
    /// and code; only the three that reached the transport are timed.
    @Test func everySendIsCountedByOutcomeAndCodeAndTimedWhenItReachedTheServer() async throws {
        let metrics = TestMetrics()
        let state = try TemporaryState()
        let authFailed = SidecarError(code: .authFailed, message: "535", smtp: SMTPReply(code: 535, text: "no"))
        let transport = FakeMailTransport([.sent, .notSent(authFailed, phase: .auth), .mayHaveBeenSent])
        let operations = Self.operations(transport, metrics: metrics, rateLimiter: state.rateLimiter)
        // Two a day: the first and third count, the refused second is refunded.
        let params = SendFixtures.params(limits: CredentialParams.Limits(daily: 2))

        #expect(await operations.send(params).result?.outcome == .sent)
        #expect(await operations.send(params).error?.code == .authFailed)
        #expect(await operations.send(params).result?.outcome == .outcomeUnknown)
        var loop = params
        loop.context = SendParams.Context(triggerEmail: "rcpt@example.test")
        #expect(await operations.send(loop).error?.code == .mailLoop)
        var noCredential = params
        noCredential.credential = nil
        #expect(await operations.send(noCredential).error?.code == .invalidParams)
        #expect(await operations.send(params).error?.code == .rateLimited)

        #expect(Self.sends(metrics, "sent", "none") == 1)
        #expect(Self.sends(metrics, "not_sent", "auth_failed") == 1)
        #expect(Self.sends(metrics, "outcome_unknown", "outcome_unknown") == 1)
        #expect(Self.sends(metrics, "not_sent", "mail_loop") == 1)
        #expect(Self.sends(metrics, "not_sent", "invalid_params") == 1)
        #expect(Self.sends(metrics, "not_sent", "rate_limited") == 1)
        #expect(metrics.counterTotal(label: "smtp_sidecar_sends_total") == 6)
        #expect(metrics.counterTotal(
            label: "smtp_sidecar_rate_limited_sends_total", dimensions: [("code", "rate_limited")]) == 1)
        #expect(metrics.counters(label: "smtp_sidecar_state_errors_total").isEmpty)

        for stage in ["connect", "transaction", "total"] {
            #expect(try Self.durations(metrics, stage).count == 3, "stage \(stage)")
        }
        // The fake transport takes no time to connect; the request as a whole takes some.
        #expect(try Self.durations(metrics, "connect") == [0, 0, 0])
        #expect(try Self.durations(metrics, "total").allSatisfy { $0 > 0 })
    }

    /// No label carries what identifies a user: the workspace, the credential, the host, an
    /// address, a message id.
    @Test func noLabelNamesAWorkspaceCredentialHostOrAddress() async throws {
        let metrics = TestMetrics()
        let transport = FakeMailTransport([.sent, .mayHaveBeenSent])
        let operations = Self.operations(transport, metrics: metrics)
        let params = SendFixtures.params()
        let sent = await operations.send(params)
        _ = await operations.send(params)

        let values = metrics.counters.flatMap { $0.dimensions.map(\.1) }
            + metrics.timers.flatMap { $0.dimensions.map(\.1) }
        #expect(!values.isEmpty)
        let forbidden = ["ws-orchestration", "cred-1", "127.0.0.1", "example.test", try #require(sent.result?.messageID)]
        for value in values {
            for word in forbidden {
                #expect(!value.contains(word), "label value \(value)")
            }
        }
    }

    @Test func aDuplicateIsCountedAsOneAndNotAsASend() async throws {
        let metrics = TestMetrics()
        let state = try TemporaryState()
        let transport = FakeMailTransport([.sent])
        let operations = Self.operations(transport, metrics: metrics, dedup: state.dedup)

        #expect(await operations.send(SendFixtures.params(window: 3600)).result?.duplicate == false)
        #expect(await operations.send(SendFixtures.params(window: 3600)).result?.duplicate == true)

        #expect(Self.sends(metrics, "sent", "none") == 1)
        #expect(metrics.counterTotal(
            label: "smtp_sidecar_dedup_duplicates_total", dimensions: [("outcome", "sent")]) == 1)
        #expect(try Self.durations(metrics, "total").count == 1, "the duplicate never reached the transport")
    }

    @Test func aStateStoreFailureIsCountedByItsCode() async throws {
        let metrics = TestMetrics()
        let transport = FakeMailTransport()
        let operations = Self.operations(transport, metrics: metrics, dedup: UnavailableDedupStore())

        let answer = await operations.send(SendFixtures.params(window: 3600))
        #expect(answer.error?.code == .stateUnavailable)
        #expect(transport.sends.isEmpty)
        #expect(metrics.counterTotal(
            label: "smtp_sidecar_state_errors_total", dimensions: [("code", "state_unavailable")]) == 1)
        #expect(Self.sends(metrics, "not_sent", "state_unavailable") == 1)
    }

    /// The pools' totals are read, not counted: each reading advances the counters by what
    /// changed since the last one, and an older reading never moves them back.
    @Test func poolTotalsAdvanceTheCountersByTheirDifference() throws {
        let metrics = TestMetrics()
        let mail = MailMetrics(factory: metrics)
        var totals = PoolStats(label: "total")
        totals.open = 3
        totals.idle = 2
        totals.leased = 1
        totals.connectionsCreated = 4
        totals.reuses = 10
        totals.discards = 1
        totals.backoffs = 2
        totals.creationFailures = 1
        mail.recordPools(totals)
        var later = totals
        later.open = 1
        later.idle = 1
        later.leased = 0
        later.connectionsCreated = 5
        later.reuses = 17
        mail.recordPools(later)
        mail.recordPools(totals)  // an older reading, rendered late

        #expect(try metrics.expectCounter("smtp_sidecar_pool_connections_created_total").totalValue == 5)
        #expect(try metrics.expectCounter("smtp_sidecar_pool_connection_reuses_total").totalValue == 17)
        #expect(try metrics.expectCounter("smtp_sidecar_pool_connection_discards_total").totalValue == 1)
        #expect(try metrics.expectCounter("smtp_sidecar_pool_backoffs_total").totalValue == 2)
        #expect(try metrics.expectCounter("smtp_sidecar_pool_connection_creation_failures_total").totalValue == 1)
        #expect(try metrics.expectGauge("smtp_sidecar_pool_connections", [("state", "idle")]).values == [2, 1, 2])
    }

    /// A real pool of fake SMTP sessions: the first send opens a connection, the second reuses it.
    @Test func aPoolsCreationsAndReusesReachTheMetrics() async throws {
        let metrics = TestMetrics()
        let mail = MailMetrics(factory: metrics)
        try await FakePool.with { pool in
            _ = await pool.send()
            _ = await pool.send()
            mail.recordPools(pool.transport.totals())
        }
        #expect(try metrics.expectCounter("smtp_sidecar_pool_connections_created_total").totalValue == 1)
        #expect(try metrics.expectCounter("smtp_sidecar_pool_connection_reuses_total").totalValue == 1)
        #expect(try metrics.expectGauge("smtp_sidecar_pool_connections", [("state", "open")]).lastValue == 1)
    }
}

/// A shared state database that does not answer.
private struct UnavailableDedupStore: DedupStoring {
    static let error = SidecarError(code: .stateUnavailable, message: "The shared state database is unavailable.", retryable: true)

    func begin(key: String, window: Duration, deadline: ContinuousClock.Instant?) async throws -> DedupResolution {
        throw Self.error
    }

    func markPending(_ ticket: DedupTicket) async throws -> Bool { throw Self.error }

    func complete(_ ticket: DedupTicket, resultJSON: String, countsAsSent: Bool) async throws -> Bool { throw Self.error }

    func completeLater(
        _ ticket: DedupTicket, resultJSON: String, countsAsSent: Bool, onFailure: @escaping @Sendable (any Error) -> Void
    ) {
        onFailure(Self.error)
    }

    func purgeExpired(now: Date) async throws -> Int { 0 }

    func flush() async {}
}
