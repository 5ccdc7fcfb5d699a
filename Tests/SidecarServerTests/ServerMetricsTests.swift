import MetricsTestKit
import SidecarServer
import SidecarTestSupport
import Testing

/// What the server records in its metrics (`ServerMetrics`), on a factory of the test's own.
@Suite struct ServerMetricsTests {
    @Test func requestsAreCountedByOperationAndResultAndConnectionsWhileOpen() async throws {
        let metrics = TestMetrics()
        try await ServerHarness.withServer(metrics: ServerMetrics(factory: metrics)) { harness in
            let client = try await harness.connect()
            try await client.writeFrame(#"{"id":1,"op":"ping"}"#)
            try await client.writeFrame(#"{"id":2,"op":"stats"}"#)
            try await client.writeFrame(#"{"id":3,"op":"no-such-operation"}"#)
            try await client.writeFrame(#"{"id":4,"op":"metrics"}"#)
            let answers = try await client.responses(4)
            #expect(answers.count == 4)
            #expect(try metrics.expectMeter("smtp_sidecar_client_connections").lastValue == 1)
            await client.close()
        }
        func requests(_ operation: String, _ result: String) -> Int64 {
            metrics.counterTotal(
                label: "smtp_sidecar_requests_total", dimensions: [("operation", operation), ("result", result)])
        }
        #expect(requests("ping", "ok") == 1)
        #expect(requests("stats", "ok") == 1)
        // The operation a client named is never a label: an unknown one is `unknown`.
        #expect(requests("unknown", "unknown_operation") == 1)
        #expect(requests("metrics", "ok") == 1)
        #expect(metrics.counters(label: "smtp_sidecar_requests_total").allSatisfy {
            !$0.dimensions.contains { $0.1.contains("no-such") }
        })
        #expect(try metrics.expectMeter("smtp_sidecar_requests_in_flight").lastValue == 0)
        #expect(try metrics.expectMeter("smtp_sidecar_client_connections").lastValue == 0)
        #expect(try metrics.expectCounter("smtp_sidecar_client_connections_accepted_total").totalValue >= 1)
    }
}
