import Foundation
import SidecarClient
import SidecarCore
import SidecarProtocol
import SidecarTestSupport
import Testing

extension InteropMatrixTests {
    /// Twenty recipients over To, Cc and Bcc, five of them refused: more refusals than
    /// chasquid allows in a session (it answers the third error with 421 and closes),
    /// fewer than stock Postfix's 20. The fifteen others each get the message, and the
    /// result names every refusal with the server's 550.
    @Test(arguments: servers)
    func twentyRecipientsWithFiveRefusedDeliverToTheOtherFifteen(server: InteropServer) async throws {
        let instance = try InteropServers.instance(server)
        let token = Self.token()
        let good = (1...15).map { "rcpt\($0)@example.test" }
        let refused = (1...5).map { "unknown\($0)-\(token.lowercased())@example.test" }
        var params = Self.message(instance, token: token, to: Array(good[0..<8]) + [refused[0], refused[1]])
        params.cc = AddressList(Array(good[8..<12]) + [refused[2]])
        params.bcc = AddressList([refused[3]] + Array(good[12..<15]) + [refused[4]])
        let sent = try await Self.withDaemon { try await Self.send(params, daemon: $0) }
        Self.expectSent(sent, accepted: good, refused: refused)
        #expect(sent.recipients.count == 20, "\(sent.json)")
        let deliveries = try await instance.waitForDeliveries(token: token, count: 15)
        #expect(deliveries.count == 15)
        #expect(Set(deliveries.compactMap(\.deliveredTo)) == Set(good))
    }

    /// Bcc recipients get the message; no delivered copy names them in its headers.
    @Test(arguments: servers)
    func bccRecipientsGetTheMessageButNoHeaderNamesThem(server: InteropServer) async throws {
        let instance = try InteropServers.instance(server)
        let token = Self.token()
        var params = Self.message(instance, token: token, to: ["rcpt1@example.test"])
        params.cc = ["rcpt2@example.test"]
        params.bcc = ["Hidden One <bcc@example.test>", "rcpt3@example.test"]
        let sent = try await Self.withDaemon { try await Self.send(params, daemon: $0) }
        let all = ["rcpt1@example.test", "rcpt2@example.test", "bcc@example.test", "rcpt3@example.test"]
        Self.expectSent(sent, accepted: all)
        let deliveries = try await instance.waitForDeliveries(token: token, count: 4)
        #expect(Set(deliveries.compactMap(\.deliveredTo)) == Set(all))
        for delivery in deliveries {
            let message = try await delivery.parsed()
            #expect(message["headers"]?["bcc"] == nil)
            #expect(message["to"] == .array([.object(["display_name": .string(""), "addr_spec": .string("rcpt1@example.test")])]))
            #expect(message["cc"] == .array([.object(["display_name": .string(""), "addr_spec": .string("rcpt2@example.test")])]))
            // Only the server's own trace fields (Delivered-To, Envelope-to, Received …
            // for) may name the copy's own envelope recipient; the message's headers never.
            let composed = delivery.headerSection.split(separator: "\n").filter { line in
                !["delivered-to:", "envelope-to:", "x-original-to:", "received:", "\t", " "].contains { line.lowercased().hasPrefix($0) }
            }
            #expect(!composed.contains { $0.contains("Hidden One") || $0.contains("rcpt3@") || $0.contains("bcc@") }, "\(composed)")
        }
    }

    /// A DSN request (NOTIFY=SUCCESS,FAILURE, RET=HDRS, ENVID): where the server offers DSN
    /// it reports the delivery to the sender, with the headers and without the body;
    /// where it does not, the daemon leaves the parameters out and the message is
    /// delivered (aiosmtpd would refuse them with 555).
    @Test(arguments: servers)
    func dsnRequestIsHonouredWhereOfferedAndLeftOutElsewhere(server: InteropServer) async throws {
        let instance = try InteropServers.instance(server)
        let token = Self.token()
        var params = Self.message(instance, token: token)
        params.text = "DSN body marker \(token)\n"
        params.dsn = .init(notify: [.success, .failure], ret: .headers, envelopeID: "env-\(token)")
        let sent = try await Self.withDaemon { try await Self.send(params, daemon: $0) }
        Self.expectSent(sent, accepted: ["rcpt1@example.test"])
        let deliveries = try await instance.waitForDeliveries(token: token, count: server.offersDSN ? 2 : 1)
        let copy = try #require(deliveries.first { $0.deliveredTo == "rcpt1@example.test" }, "\(deliveries.map(\.path))")
        #expect(copy.contains("DSN body marker \(token)"))
        guard server.offersDSN else {
            #expect(deliveries.count == 1)
            return
        }
        let report = try #require(deliveries.first { $0.deliveredTo == Self.sender }, "\(deliveries.map(\.path))")
        #expect(report.contains("Action: delivered"))
        #expect(report.contains("Final-Recipient: rfc822; rcpt1@example.test"))
        #expect(!report.contains("DSN body marker"), "RET=HDRS: the report returns the headers only")
        if server == .postfix {
            #expect(report.contains("Original-Envelope-Id: env-\(token)"))
        }
    }
}
