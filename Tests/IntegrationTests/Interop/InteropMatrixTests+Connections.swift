import Foundation
import SidecarClient
import SidecarCore
import SidecarProtocol
import SidecarTestSupport
import Testing

extension InteropMatrixTests {
    /// Twelve sends one after the other on one credential: more than the ten messages Exim
    /// delivers at once on one connection (its `smtp_accept_queue_per_connection`, after
    /// which it queues until a queue run that never comes here). All twelve are delivered,
    /// so the daemon did not carry an eleventh message on a connection to Exim. (The
    /// daemon's pool counters are no witness: a pool whose only connection was retired
    /// may be dropped and recreated with fresh counters before the next send.)
    @Test(arguments: servers)
    func twelveWarmSequentialSendsAreAllDelivered(server: InteropServer) async throws {
        let instance = try InteropServers.instance(server)
        let token = Self.token()
        let credential = instance.credential(id: "warm")
        let results = try await Self.withDaemon { daemon in
            try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
                var results: [Sent] = []
                for index in 1...12 {
                    var params = Self.message(instance, token: token, credential: credential)
                    params.subject = "warm \(index) \(token)"
                    results.append(try await Self.send(params, on: sidecar))
                }
                return results
            }
        }
        for sent in results { Self.expectSent(sent, accepted: ["rcpt1@example.test"]) }
        let deliveries = try await instance.waitForDeliveries(token: token, count: 12)
        #expect(deliveries.count == 12)
        // ASCII subjects, never folded: read from the header section, no parser needed.
        let subjects = deliveries.map { $0.headerValues("Subject").first ?? "" }
        #expect(Set(subjects) == Set((1...12).map { "warm \($0) \(token)" }))
    }

    /// Eight sends at once on one credential: each is delivered once.
    @Test(arguments: servers)
    func eightConcurrentSendsAreAllDelivered(server: InteropServer) async throws {
        let instance = try InteropServers.instance(server)
        let token = Self.token()
        let credential = instance.credential(id: "concurrent")
        let results = try await Self.withDaemon { daemon in
            try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
                try await withThrowingTaskGroup(of: Sent.self) { group in
                    for index in 1...8 {
                        var params = Self.message(instance, token: token, to: ["rcpt\(index)@example.test"], credential: credential)
                        params.subject = "concurrent \(index) \(token)"
                        let request = params
                        group.addTask { try await Self.send(request, on: sidecar) }
                    }
                    var results: [Sent] = []
                    for try await sent in group { results.append(sent) }
                    return results
                }
            }
        }
        #expect(results.count == 8)
        for sent in results { Self.expectSent(sent, accepted: [sent.recipients.first?.address ?? "?"]) }
        #expect(Set(results.flatMap(\.recipients).map(\.address)) == Set((1...8).map { "rcpt\($0)@example.test" }))
        let deliveries = try await instance.waitForDeliveries(token: token, count: 8)
        #expect(deliveries.count == 8)
        #expect(Set(deliveries.compactMap(\.deliveredTo)) == Set((1...8).map { "rcpt\($0)@example.test" }))
    }

    /// The server restarts between two sends (every session of it ends, as when systemd
    /// restarts it): the pooled connection is stale, and the second send is still
    /// delivered, on a new connection.
    @Test(arguments: servers)
    func aSendAfterTheServerRestartedIsDelivered(server: InteropServer) async throws {
        let instance = try InteropServers.instance(server)
        let token = Self.token()
        let credential = instance.credential(id: "restart")
        let (first, second) = try await Self.withDaemon { daemon in
            try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
                var params = Self.message(instance, token: token, credential: credential)
                params.subject = "before restart \(token)"
                let first = try await Self.send(params, on: sidecar)
                _ = try await instance.waitForDeliveries(token: token, count: 1)
                try await instance.restart()
                params.subject = "after restart \(token)"
                return (first, try await Self.send(params, on: sidecar))
            }
        }
        Self.expectSent(first, accepted: ["rcpt1@example.test"])
        Self.expectSent(second, accepted: ["rcpt1@example.test"])
        let deliveries = try await instance.waitForDeliveries(token: token, count: 2)
        #expect(deliveries.count == 2)
        // ASCII subjects, never folded: read from the header section, no parser needed.
        let subjects = deliveries.map { $0.headerValues("Subject").first ?? "" }
        #expect(Set(subjects) == ["before restart \(token)", "after restart \(token)"])
    }
}
