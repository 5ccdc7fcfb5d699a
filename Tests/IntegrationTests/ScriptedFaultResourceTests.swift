import Foundation
import SidecarClient
import SidecarCore
import SidecarProtocol
import SidecarTestSupport
import Testing

/// Fifty repetitions of one fault do not grow the daemon: its open files come back to
/// where they were, and its resident memory grows by less than a stated tolerance.
@Suite(.serialized) struct ScriptedFaultResourceTests {
    static let repetitions = 50
    /// File descriptors the daemon may hold beyond the warm baseline (none is expected:
    /// every connection of a failed send is closed; the slack is for a pooled eventfd or
    /// timer that a later step opens lazily).
    static let fileTolerance = 2
    /// Resident memory growth allowed over the 50 repetitions: the allocator keeps freed
    /// pages, so not zero; a connection kept per repetition (its NIO channel, TLS state
    /// and buffers, well over 100 KiB each) would exceed it.
    static let residentToleranceKiB = 4096

    static let faults: [ScriptedFault] = [
        ScriptedFault.at("dot:drop", .outcomeUnknown, phase: "data", outcome: .outcomeUnknown).with { $0.chunking = true },
        // tls_failed, or starttls_unavailable when a loaded client reads the alert before its
        // handshake began (as data after the 220).
        ScriptedFault.at("starttls:tlsfail", .tlsFailed, phase: "tls").with { $0.codes = [.tlsFailed, .starttlsUnavailable] },
        .at("starttls:inject", .starttlsUnavailable, phase: "tls"),
        .at("tls:garbage", .protocolViolation, phase: "ehlo"),
        .at("auth:421", .connectionFailed, phase: "auth"),
        // Long enough that a loaded machine still connects before the deadline (every
        // repetition must reach the server), short enough for 70 repetitions.
        ScriptedFault.at("mail:stall", .requestTimeout, phase: "mail").with { $0.timeoutMs = 800 },
    ]

    @Test(arguments: faults)
    func repeatedFaultsDoNotGrowTheDaemon(_ fault: ScriptedFault) async throws {
        let server = try await HostileSMTPServer.start(fault: fault.fault, chunking: fault.chunking)
        let daemon = try await Daemon.start()
        defer { daemon.process.signal(SIGKILL) }
        let pid = try #require(daemon.process.programID)
        func once(_ index: Int) async throws {
            let params = try ScriptedFaultIntegrationTests.params(port: server.port, fault: fault, subject: "rep \(index)")
            let response = try await ScriptedFaultIntegrationTests.send(params, daemon)
            #expect(response.error.map { fault.codes.contains($0.code) } == true, "\(String(decoding: response.json, as: UTF8.self))")
        }
        // Warm up: lazily built state (TLS context cache, pool, state database pages).
        for index in 0..<10 { try await once(index) }
        #expect(await server.wait { $0.open == 0 })
        let before = try ProcessReadings(pid: pid)
        for index in 0..<Self.repetitions { try await once(10 + index) }
        #expect(await server.wait { $0.open == 0 }, "\(server.open) connections still open")
        try await Task.sleep(for: .milliseconds(200))
        let after = try ProcessReadings(pid: pid)
        #expect(server.count("accept") == 10 + Self.repetitions, "every repetition reached the server")
        #expect(after.openFiles - before.openFiles <= Self.fileTolerance, "before \(before), after \(after)")
        #expect(after.residentKiB - before.residentKiB <= Self.residentToleranceKiB, "before \(before), after \(after)")
        print("resource check \(fault.testDescription): before \(before), after \(after)")
        _ = try await daemon.stop()
        await server.stop()
    }
}
