import Foundation
import Logging
import ServiceLifecycle
import NIOCore
import SidecarClient
import SidecarCore
import SidecarProtocol
import SidecarServer
import SidecarTestSupport
import Testing

@Suite struct ServerBehaviourTests {
    @Test func manyPipelinedRequestsOnOneConnectionAllComeBack() async throws {
        try await ServerHarness.withServer(maxInFlight: 8) { harness in
            try await SidecarConnection.withConnection(socketPath: harness.socketPath) { sidecar in
                let hello = try await sidecar.hello()
                #expect(hello.version == 1)
                #expect(hello.limits.maxInFlight == 8)
                let ids = try await withThrowingTaskGroup(of: String?.self) { group in
                    for index in 0..<500 {
                        group.addTask { try await sidecar.ping(data: "n\(index)").data }
                    }
                    var seen: Set<String> = []
                    for try await data in group { if let data { seen.insert(data) } }
                    return seen
                }
                #expect(ids == Set((0..<500).map { "n\($0)" }))
                let stats = try await sidecar.stats()
                #expect(stats.requests.byOperation["ping"] == 500)
                #expect(stats.requests.byResult["ok"] == 501)
                #expect(stats.connections.open >= 1)
            }
        }
    }

    @Test func aMalformedClientNeverDisturbsAnother() async throws {
        try await ServerHarness.withServer(maxFrameBytes: 1024) { harness in
            try await SidecarConnection.withConnection(socketPath: harness.socketPath) { good in
                let bad = try await harness.connect()
                try await bad.writeFrame("not json")
                try await bad.writeFrame("[1,2]")
                #expect(try await bad.responses(2).map(\.errorCode) == ["invalid_json", "not_an_object"])
                let pong = try await good.ping(data: "still here")
                #expect(pong.data == "still here")
                // Now the bad client breaks its framing and is closed; the good one goes on.
                try await bad.write([0x7F, 0xFF, 0xFF, 0xFF] + Array(repeating: 0x41, count: 4096))
                let last = try await bad.responsesUntilClosed()
                #expect(last.map(\.errorCode) == ["frame_too_large"])
                #expect(try await good.ping(data: "after").data == "after")
            }
        }
    }

    @Test func oversizedFrameClosesOnlyAfterEarlierRequestsAreAnswered() async throws {
        let gate = GatedHandler()
        try await ServerHarness.withServer(maxInFlight: 4, maxFrameBytes: 256, handler: gate) { harness in
            let client = try await harness.connect()
            try await client.writeFrame(#"{"id":"slow","op":"ping","params":{"data":"kept"}}"#)
            try await gate.waitForStarted(1)
            try await client.write([0, 0, 1, 1])  // 257 bytes announced
            try await Task.sleep(for: .milliseconds(50))
            gate.open()
            let responses = try await client.responsesUntilClosed()
            #expect(responses.count == 2)
            #expect(responses.contains { $0.errorCode == "frame_too_large" && $0["id"] == .null })
            #expect(responses.contains { $0["id"] == .string("slow") && $0["result"]?["data"] == .string("kept") })
        }
    }

    @Test func fullInFlightStopsReadingInsteadOfDropping() async throws {
        let gate = GatedHandler()
        try await ServerHarness.withServer(maxInFlight: 2, handler: gate) { harness in
            let client = try await harness.connect()
            for index in 0..<6 {
                try await client.writeFrame(#"{"id":\#(index),"op":"ping"}"#)
            }
            try await gate.waitForStarted(2)
            try await Task.sleep(for: .milliseconds(200))
            // Only two requests run; the other four wait unread, none is refused.
            #expect(gate.started == 2)
            #expect(harness.server.stats.inFlight == 2)
            gate.open()
            let responses = try await client.responses(6)
            #expect(Set(responses.compactMap { $0["id"]?.number }) == [0, 1, 2, 3, 4, 5])
            #expect(responses.allSatisfy { $0["ok"] == .bool(true) })
            await client.close()
        }
    }

    @Test func duplicateIDWhileInFlightIsRefusedWithoutDisturbingTheFirst() async throws {
        let gate = GatedHandler()
        try await ServerHarness.withServer(handler: gate) { harness in
            let client = try await harness.connect()
            try await client.writeFrame(#"{"id":"same","op":"ping","params":{"data":"first"}}"#)
            try await gate.waitForStarted(1)
            try await client.writeFrame(#"{"id":"same","op":"ping","params":{"data":"second"}}"#)
            let refusal = try await client.responses(1)
            #expect(refusal.first?.errorCode == "duplicate_id")
            // Not the in-flight request's id: the refusal can never pass for its answer.
            #expect(refusal.first?["id"] == .null)
            #expect(refusal.first?["error"]?["field"] == .string("id"))
            #expect(refusal.first?["error"]?["message"]?.string?.contains(#""same""#) == true)
            gate.open()
            let first = try await client.responses(1)
            #expect(first.first?["result"]?["data"] == .string("first"))
            await client.close()
        }
    }

    @Test func peerNotAllowedGetsAnErrorFrameAndIsClosed() async throws {
        try await ServerHarness.withServer(peerPolicy: PeerPolicy(allowedUIDs: [4_242_424])) { harness in
            let client = try await harness.connect()
            let responses = try await client.responsesUntilClosed()
            #expect(responses.map(\.errorCode) == ["peer_not_allowed"])
            #expect(harness.server.stats.snapshot().connections.refused >= 1)
        }
    }

    @Test func peerAllowedByUIDIsServed() async throws {
        try await ServerHarness.withServer(peerPolicy: PeerPolicy(allowedUIDs: [getuid()])) { harness in
            try await SidecarConnection.withConnection(socketPath: harness.socketPath) { sidecar in
                let pong = try await sidecar.ping(data: "me")
                #expect(pong.data == "me")
            }
        }
    }

    @Test func connectionsOverTheLimitAreRefusedRetryably() async throws {
        try await ServerHarness.withServer(maxConnections: 2) { harness in
            // The harness's readiness probe may still be counted for a moment.
            try await Task.sleep(for: .milliseconds(100))
            let first = try await harness.connect()
            let second = try await harness.connect()
            try await first.writeFrame(#"{"id":1,"op":"ping"}"#)
            try await second.writeFrame(#"{"id":2,"op":"ping"}"#)
            _ = try await first.responses(1)
            _ = try await second.responses(1)
            let third = try await harness.connect()
            let refused = try await third.responsesUntilClosed()
            #expect(refused.map(\.errorCode) == ["too_many_connections"])
            #expect(refused.first?["error"]?["retryable"] == .bool(true))
            await first.close()
        }
    }

    @Test func idleConnectionsAreClosed() async throws {
        // 2 s, not less: the connection is idle from its accept until the ping is read, and
        // on a loaded machine (a fresh clone's CI run) that took over 300 ms, so the server
        // rightly closed it before the ping.
        try await ServerHarness.withServer(idleTimeout: .seconds(2)) { harness in
            let client = try await harness.connect()
            // The last activity (the answer) comes after this instant, so the server may
            // close no earlier than the idle timeout after it.
            let started = ContinuousClock.now
            try await client.writeFrame(#"{"id":1,"op":"ping"}"#)
            #expect(try await client.responses(1).count == 1)
            let rest = try await client.responsesUntilClosed(timeout: .seconds(8))
            #expect(rest.isEmpty)
            #expect(ContinuousClock.now - started >= .seconds(2))
        }
    }

    @Test func aSlowRequestIsNeverClosedAsIdle() async throws {
        let gate = GatedHandler()
        // The idle timeout also runs from the connection's accept to its first frame; at
        // 200 ms a loaded 2-core run sometimes took longer than that to write the frame and
        // found the connection closed (broken pipe). The request still outlives the idle
        // timeout three times over.
        try await ServerHarness.withServer(idleTimeout: .seconds(1), handler: gate) { harness in
            let client = try await harness.connect()
            try await client.writeFrame(#"{"id":"long","op":"ping"}"#)
            try await Task.sleep(for: .seconds(3))
            gate.open()
            #expect(try await client.responses(1).first?["id"] == .string("long"))
        }
    }

    @Test func gracefulShutdownAnswersInFlightAndRefusesNewWork() async throws {
        let gate = GatedHandler()
        let path = try await ServerHarness.withServer(maxInFlight: 4, handler: gate) { harness in
            let client = try await harness.connect()
            try await client.writeFrame(#"{"id":"inflight","op":"ping","params":{"data":"done"}}"#)
            try await gate.waitForStarted(1)
            async let stopped: Void = harness.group.triggerGracefulShutdown()
            // New connections are soon no longer accepted (the listener closes as shutdown begins).
            var refused = false
            for _ in 0..<400 where !refused {
                if let probe = try? await RawClient.connect(harness.socketPath) {
                    await probe.close()
                    try await Task.sleep(for: .milliseconds(25))
                } else {
                    refused = true
                }
            }
            #expect(refused)
            // A new request on the open connection is answered, not dropped.
            try await client.writeFrame(#"{"id":"late","op":"ping"}"#)
            let late = try await client.responses(1)
            #expect(late.first?.errorCode == "shutting_down")
            gate.open()
            let rest = try await client.responsesUntilClosed()
            #expect(rest.first?["id"] == .string("inflight"))
            #expect(rest.first?["result"]?["data"] == .string("done"))
            await stopped
            return harness.socketPath
        }
        // The socket file the server bound is removed on the way out.
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func staleSocketFileIsReplacedButALiveOneIsNot() async throws {
        let path = ServerHarness.makeSocketPath()
        // A stale socket: bound, then its owner went away without unlinking.
        let fd = try UnixSocket.make(UnixSocket.stream)
        try UnixSocket.bindPath(fd, path)
        close(fd)
        #expect(FileManager.default.fileExists(atPath: path))
        let stats = ServerStats()
        let router = OperationRouter(limits: .init(maxFrameBytes: 1024, maxInFlight: 1, idleTimeoutMs: 1), serverVersion: "t", stats: stats)
        var logger = Logger(label: "t")
        logger.logLevel = .critical
        let first = SidecarServer(
            settings: .init(listener: .path(path, mode: 0o600, group: nil)), handler: router, stats: stats, logger: logger)
        let group = ServiceGroup(services: [first], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await ServerHarness.waitForSocket(path)
            // A second server must not steal the live socket.
            let second = SidecarServer(
                settings: .init(listener: .path(path, mode: 0o600, group: nil)), handler: router, stats: stats, logger: logger)
            await #expect(throws: SidecarError.self) { try await second.run() }
            let stillServing = try await RawClient.connect(path)
            try await stillServing.writeFrame(#"{"id":1,"op":"ping"}"#)
            #expect(try await stillServing.responses(1).count == 1)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
