import Foundation
import SidecarClient
import SidecarCore
import SidecarProtocol
import SidecarTestSupport
import Testing

extension InteropMatrixTests {
    /// A text message over each security mode arrives with its headers and body exact.
    @Test(arguments: securityMatrix)
    func textArrivesExactlyOverEachSecurityMode(server: InteropServer, security: CredentialParams.Security) async throws {
        let instance = try InteropServers.instance(server)
        let token = Self.token()
        var params = Self.message(instance, token: token, credential: instance.credential(security))
        params.text = "Line one\nSecond line, with\ta tab\n\n  indented after an empty line\nlast line\n"
        if let reason = server.noTLSReason, security != .none {
            if security == .tls { try Test.cancel("no implicit TLS to send over: \(reason)") }
            // STARTTLS required but not offered: nothing is sent, in plaintext or otherwise.
            let sent = try await Self.withDaemon { try await Self.send(params, daemon: $0) }
            #expect(sent.response.error?.code == .starttlsUnavailable, "\(sent.json)")
            #expect(sent.result?.outcome == .notSent, "\(sent.json)")
            #expect(try instance.deliveries(token: token).isEmpty)
            return
        }
        let sent = try await Self.withDaemon { try await Self.send(params, daemon: $0) }
        Self.expectSent(sent, accepted: ["rcpt1@example.test"])
        let deliveries = try await instance.waitForDeliveries(token: token, count: 1)
        #expect(deliveries.count == 1)
        let delivery = try #require(deliveries.first)
        #expect(delivery.deliveredTo == "rcpt1@example.test")
        let message = try await delivery.parsed()
        #expect(message["subject"]?.string == params.subject)
        #expect(message["message_id"]?.string == sent.result?.messageID)
        #expect(message["from"] == .array([.object(["display_name": .string("Interop Sender"), "addr_spec": .string(Self.sender)])]))
        #expect(message["to"] == .array([.object(["display_name": .string(""), "addr_spec": .string("rcpt1@example.test")])]))
        let leaves = InteropDelivery.leaves(message["structure"])
        #expect(leaves.count == 1)
        let body = try #require(leaves.first)
        #expect(body["content_type"]?.string == "text/plain")
        #expect(InteropDelivery.text(body) == params.text)
    }

    /// HTML with its text alternative, two attachments and an inline image: every part's
    /// decoded bytes are exactly what was sent.
    @Test(arguments: servers)
    func htmlWithAttachmentsArrivesBytesExact(server: InteropServer) async throws {
        let instance = try InteropServers.instance(server)
        let token = Self.token()
        var random = SplitMix64(seed: 0x1D_0516)
        let binary = (0..<4096).map { index in index < 256 ? UInt8(index) : UInt8.random(in: 0...255, using: &random) }
        let pdf = Array("%PDF-1.4\n%âãÏÓ\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n".utf8)
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + (0..<200).map { _ in UInt8.random(in: 0...255, using: &random) }
        var params = Self.message(instance, token: token)
        params.bodyFormat = .html
        params.text = "The plain alternative, \(token).\n"
        params.html = "<html><body><p>Hello <b>\(token)</b> &ndash; <img src=\"cid:logo@interop\"></p></body></html>\n"
        params.attachments = [
            AttachmentParams(filename: "données €.bin", contentType: "application/octet-stream", contentBase64: Data(binary).base64EncodedString()),
            AttachmentParams(filename: "report.pdf", contentType: "application/pdf", contentBase64: Data(pdf).base64EncodedString()),
            AttachmentParams(filename: "logo.png", contentType: "image/png", contentBase64: Data(png).base64EncodedString(), contentID: "logo@interop"),
        ]
        let sent = try await Self.withDaemon { try await Self.send(params, daemon: $0) }
        Self.expectSent(sent, accepted: ["rcpt1@example.test"])
        let delivery = try #require(try await instance.waitForDeliveries(token: token, count: 1).first)
        let message = try await delivery.parsed()
        let leaves = InteropDelivery.leaves(message["structure"])
        let text = try #require(leaves.first { $0["content_type"]?.string == "text/plain" && $0["filename"] == .null })
        #expect(InteropDelivery.text(text) == params.text)
        let html = try #require(leaves.first { $0["content_type"]?.string == "text/html" })
        #expect(InteropDelivery.text(html) == params.html)
        for (name, type, bytes) in [("données €.bin", "application/octet-stream", binary), ("report.pdf", "application/pdf", pdf), ("logo.png", "image/png", png)] {
            let part = try #require(leaves.first { $0["filename"]?.string == name }, "\(name) in \(leaves)")
            #expect(part["content_type"]?.string == type)
            #expect(InteropDelivery.payload(part) == Data(bytes), "\(name)")
        }
        let logo = try #require(leaves.first { $0["filename"]?.string == "logo.png" })
        #expect(logo["content_id"]?.string == "<logo@interop>")
        #expect((message["structure"]?["defects"]) == .array([]))
    }

    /// Non-ASCII display names, subject (long enough to fold) and custom header, with
    /// ASCII addresses: encoded words (RFC 2047) that every server carries, SMTPUTF8 or not.
    @Test(arguments: servers)
    func nonASCIIHeadersArriveDecodedExactly(server: InteropServer) async throws {
        let instance = try InteropServers.instance(server)
        let token = Self.token()
        var params = Self.message(instance, token: token, to: ["Jörg Müller <rcpt1@example.test>", "\"Doe, Jane\" <rcpt2@example.test>"])
        params.from = "Zoë Señor <\(Self.sender)>"
        params.cc = ["Ĉu Ŝi <rcpt3@example.test>"]
        params.subject = "Grüße – 日本語のテスト 🎉 \(token), a subject long enough to be folded over more than one line"
        params.headers = HeaderList([.init(name: MaildirIndex.tokenHeader, value: token), .init(name: "X-Note", value: "café naïve ✓")])
        let sent = try await Self.withDaemon { try await Self.send(params, daemon: $0) }
        let recipients = ["rcpt1@example.test", "rcpt2@example.test", "rcpt3@example.test"]
        Self.expectSent(sent, accepted: recipients)
        let deliveries = try await instance.waitForDeliveries(token: token, count: 3)
        #expect(Set(deliveries.compactMap(\.deliveredTo)) == Set(recipients))
        for delivery in deliveries {
            let message = try await delivery.parsed()
            #expect(message["subject"]?.string == params.subject)
            #expect(message["from"] == .array([.object(["display_name": .string("Zoë Señor"), "addr_spec": .string(Self.sender)])]))
            #expect(message["to"] == .array([
                .object(["display_name": .string("Jörg Müller"), "addr_spec": .string("rcpt1@example.test")]),
                .object(["display_name": .string("Doe, Jane"), "addr_spec": .string("rcpt2@example.test")]),
            ]))
            #expect(message["cc"] == .array([.object(["display_name": .string("Ĉu Ŝi"), "addr_spec": .string("rcpt3@example.test")])]))
            #expect(message["headers"]?["x-note"] == .array([.string("café naïve ✓")]))
            // Encoded words, not raw UTF-8: no SMTPUTF8 was needed.
            #expect(!delivery.headerSection.contains("Grüße"))
        }
    }

    /// An address with a non-ASCII local part: delivered where the server offers SMTPUTF8,
    /// refused with `smtputf8_unsupported` where it does not. An ASCII message sent next by
    /// the same daemon is not an SMTPUTF8 one: Exim marks every later message of a session
    /// that used SMTPUTF8 as such (its Received header then says `with utf8esmtpsa`), so
    /// the daemon does not lend that connection again.
    @Test(arguments: servers)
    func smtpUTF8AddressIsDeliveredOrRefusedAsDocumented(server: InteropServer) async throws {
        let instance = try InteropServers.instance(server)
        let token = Self.token()
        let params = Self.message(instance, token: token, to: ["Jörg <jörg@example.test>"])
        let followUpToken = Self.token()
        let followUp = Self.message(instance, token: followUpToken)
        let (sent, second) = try await Self.withDaemon { daemon in
            try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
                let sent = try await Self.send(params, on: sidecar)
                return (sent, try await Self.send(followUp, on: sidecar))
            }
        }
        Self.expectSent(second, accepted: ["rcpt1@example.test"])
        let ascii = try #require(try await instance.waitForDeliveries(token: followUpToken, count: 1).first)
        #expect(!ascii.headerSection.lowercased().contains("with utf8"), "\(ascii.headerSection)")
        guard server.offersSMTPUTF8 else {
            #expect(sent.response.error?.code == .smtputf8Unsupported, "\(sent.json)")
            #expect(sent.response.error?.retryable == false, "\(sent.json)")
            #expect(sent.result?.outcome == .notSent, "\(sent.json)")
            #expect(try instance.deliveries(token: token).isEmpty)
            return
        }
        Self.expectSent(sent, accepted: ["jörg@example.test"])
        let delivery = try #require(try await instance.waitForDeliveries(token: token, count: 1).first)
        #expect(delivery.deliveredTo == "jörg@example.test")
        let message = try await delivery.parsed()
        #expect(message["to"] == .array([.object(["display_name": .string("Jörg"), "addr_spec": .string("jörg@example.test")])]))
        if server == .exim || server == .postfix {
            // They name SMTPUTF8 in the protocol of their Received header (chasquid does
            // not): the check above would see a carried-over flag.
            #expect(delivery.headerSection.lowercased().contains("with utf8"), "\(delivery.headerSection)")
        }
    }

    /// Lines of dots (".", "..", ".x") arrive as written, over DATA (dot-stuffed) and over
    /// BDAT (not stuffed) where the server offers CHUNKING.
    @Test(arguments: servers, [false, true])
    func dotLinesArriveExactlyOverDATAAndBDAT(server: InteropServer, chunking: Bool) async throws {
        let instance = try InteropServers.instance(server)
        if chunking && !server.offersChunking {
            try Test.cancel("\(server) offers no CHUNKING: the message would go over DATA, the other case")
        }
        let token = Self.token()
        var params = Self.message(instance, token: token, credential: instance.credential(chunking: chunking))
        params.text = ".\n..\n.a line starting with a dot\n...\n . space then dot\nmiddle\n.\n.."
        let sent = try await Self.withDaemon { try await Self.send(params, daemon: $0) }
        Self.expectSent(sent, accepted: ["rcpt1@example.test"])
        let delivery = try #require(try await instance.waitForDeliveries(token: token, count: 1).first)
        let message = try await delivery.parsed()
        let body = try #require(InteropDelivery.leaves(message["structure"]).first)
        #expect(body["transfer_encoding"]?.string == "7bit", "the dots go on the wire as they are")
        #expect(InteropDelivery.text(body) == params.text! + "\n")
    }

    /// A 5 MB attachment arrives bytes exact.
    @Test(arguments: servers)
    func fiveMegabyteAttachmentArrivesBytesExact(server: InteropServer) async throws {
        let instance = try InteropServers.instance(server)
        let token = Self.token()
        var random = SplitMix64(seed: 5_000_000)
        var bytes = [UInt8](repeating: 0, count: 5_000_000)
        for index in stride(from: 0, to: bytes.count, by: 8) {
            withUnsafeBytes(of: random.next()) { word in
                for offset in 0..<min(8, bytes.count - index) { bytes[index + offset] = word[offset] }
            }
        }
        var params = Self.message(instance, token: token)
        params.attachments = [AttachmentParams(filename: "five.bin", contentType: "application/octet-stream", contentBase64: Data(bytes).base64EncodedString())]
        let sent = try await Self.withDaemon { try await Self.send(params, daemon: $0) }
        Self.expectSent(sent, accepted: ["rcpt1@example.test"])
        let delivery = try #require(try await instance.waitForDeliveries(token: token, count: 1).first)
        let message = try await delivery.parsed()
        let part = try #require(InteropDelivery.leaves(message["structure"]).first { $0["filename"]?.string == "five.bin" })
        let payload = InteropDelivery.payload(part)
        #expect(payload.count == bytes.count)
        #expect(payload == Data(bytes))
    }
}
