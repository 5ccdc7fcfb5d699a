import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@testable import SidecarSMTP

@Suite struct SMTPReplyDecoderTests {
    func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    @Test func verifierSingleAndMultiLineReplies() throws {
        let input = buffer(
            "220 mx.example.com ESMTP ready\r\n"
                + "250-mx.example.com Hello\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 SMTPUTF8\r\n"
                + "535 5.7.8 Error: authentication failed\r\n"
                + "550-5.1.1 The email account that you tried to reach does not exist.\r\n550 5.1.1 Please try again.\r\n"
                + "250\r\n"
        )
        let expected: [SMTPResponse] = [
            SMTPResponse(code: 220, lines: ["mx.example.com ESMTP ready"]),
            SMTPResponse(code: 250, lines: ["mx.example.com Hello", "PIPELINING", "SIZE 10240000", "SMTPUTF8"]),
            SMTPResponse(code: 535, enhancedCode: "5.7.8", lines: ["Error: authentication failed"]),
            SMTPResponse(code: 550, enhancedCode: "5.1.1", lines: ["The email account that you tried to reach does not exist.", "Please try again."]),
            SMTPResponse(code: 250, lines: [""]),
        ]
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: [(input, expected)]) {
            SMTPReplyDecoder()
        }
    }

    @Test func verifierAcceptsBareLineFeeds() throws {
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(buffer("250-a\n250 2.0.0 b\n"), [SMTPResponse(code: 250, lines: ["a", "b"])])]
        ) { SMTPReplyDecoder() }
    }

    @Test(arguments: [
        ("250 2.0.0 Ok", "2.0.0", "Ok"),
        ("250 2.1.5", "2.1.5", ""),
        ("550 5.7.1 Relay denied", "5.7.1", "Relay denied"),
        ("421 4.4.2 timeout", "4.4.2", "timeout"),
        ("250 5.0.0 class differs", nil, "5.0.0 class differs"),
        ("250 2.0 too short", nil, "2.0 too short"),
        ("250 2.0.1234 too long", nil, "2.0.1234 too long"),
        ("250 2.0.0x glued", nil, "2.0.0x glued"),
        ("250 2.100.999 wide", "2.100.999", "wide"),
    ])
    func enhancedStatusCodes(line: String, code: String?, text: String) throws {
        var decoder = SMTPReplyDecoder()
        var input = buffer(line + "\r\n")
        let reply = try #require(try decoder.decode(buffer: &input))
        #expect(reply.enhancedCode == code)
        #expect(reply.lines == [text])
    }

    @Test func enhancedCodeOfAMultiLineReplyIsTheFirstLinesAndStrippedFromEach() throws {
        var decoder = SMTPReplyDecoder()
        var input = buffer("552-5.3.4 Message too big\r\n552 5.3.4 Try smaller\r\n")
        let reply = try #require(try decoder.decode(buffer: &input))
        #expect(reply.reply.description == "552 5.3.4 Message too big\nTry smaller")
    }

    @Test(arguments: ["25 short\r\n", "abc text\r\n", "2x0 nope\r\n", "250Xtext\r\n", "199 too low\r\n", "600 too high\r\n", "\r\n", "-250 x\r\n"])
    func malformedLinesAreRefused(input: String) {
        var decoder = SMTPReplyDecoder()
        var bytes = buffer(input)
        #expect(throws: SMTPReplyDecodingError.self) { try decoder.decode(buffer: &bytes) }
        do {
            _ = try SMTPReplyDecoder().decodeAll(input)
        } catch let error as SMTPReplyDecodingError {
            #expect(error.kind == .malformedLine)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func aContinuationWithAnotherCodeIsRefused() {
        #expect(throws: SMTPReplyDecodingError(.inconsistentCode, line: "251 b")) {
            try SMTPReplyDecoder().decodeAll("250-a\r\n251 b\r\n")
        }
    }

    @Test func anOverlongLineIsRefusedBeforeItsEndArrives() {
        var decoder = SMTPReplyDecoder(limits: .init(maximumLineLength: 100, maximumLines: 10))
        // 102 bytes and no line end yet: even with CR LF next, the line is over 100.
        var bytes = buffer("250 " + String(repeating: "x", count: 98))
        #expect(throws: SMTPReplyDecodingError(.lineTooLong)) { try decoder.decode(buffer: &bytes) }
    }

    @Test func aLineAtTheLimitIsAccepted() throws {
        var decoder = SMTPReplyDecoder(limits: .init(maximumLineLength: 100, maximumLines: 10))
        let line = "250 " + String(repeating: "x", count: 96)
        var partial = buffer(line + "\r")  // 101 bytes, CR not counted
        #expect(try decoder.decode(buffer: &partial) == nil)
        partial.writeString("\n")
        #expect(try decoder.decode(buffer: &partial)?.lines.first?.count == 96)
        var tooLong = buffer(line + "y\r\n")
        #expect(throws: SMTPReplyDecodingError(.lineTooLong)) { try decoder.decode(buffer: &tooLong) }
    }

    @Test func tooManyLinesAreRefused() {
        let input = String(repeating: "250-x\r\n", count: 10) + "250 end\r\n"
        #expect(throws: SMTPReplyDecodingError(.tooManyLines)) {
            try SMTPReplyDecoder(limits: .init(maximumLineLength: 100, maximumLines: 10)).decodeAll(input)
        }
        #expect(throws: Never.self) {
            try SMTPReplyDecoder(limits: .init(maximumLineLength: 100, maximumLines: 11)).decodeAll(input)
        }
    }

    @Test func partialMultiLineReplyIsReported() throws {
        var decoder = SMTPReplyDecoder()
        var bytes = buffer("250-first\r\n250-sec")
        #expect(try decoder.decode(buffer: &bytes) == nil)
        #expect(decoder.hasPartialReply)
        #expect(bytes.readableBytes == 7, "complete lines are consumed, the partial one stays")
    }

    @Test func decoderInAChannelPipeline() async throws {
        let channel = try await NIOAsyncTestingChannel { channel in
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPReplyDecoder()))
        }
        try await channel.writeInbound(buffer("220 hi\r\n250-a\r\n"))
        try await channel.writeInbound(buffer("250 b\r\n"))
        #expect(try await channel.readInbound(as: SMTPResponse.self) == SMTPResponse(code: 220, lines: ["hi"]))
        #expect(try await channel.readInbound(as: SMTPResponse.self) == SMTPResponse(code: 250, lines: ["a", "b"]))
        await #expect(throws: SMTPReplyDecodingError.self) { try await channel.writeInbound(self.buffer("oops\r\n")) }
        _ = try? await channel.finish()
    }

    @Test func commandEncodingRevealsSecretsOnlyOnTheWire() {
        let encoder = SMTPCommandEncoder()
        let payload = Secret("AHVzZXIAcGFzcw==")
        let commands: [SMTPCommand] = [
            .ehlo("client.test"), .auth(.plain, initialResponse: payload), .authResponse(Secret("cGFzcw==")),
            .mail(reversePath: "a@b.c", parameters: ["SIZE=10", "SMTPUTF8"]), .rcpt(forwardPath: "d@e.f", parameters: []),
            .data, .endOfData, .rset, .noop, .quit, .startTLS, .helo("h"), .bdat(size: 2048, last: false),
            .bdat(size: 0, last: true), .auth(.login, initialResponse: nil),
        ]
        let wire = String(buffer: encoder.encode(commands, allocator: ByteBufferAllocator()))
        #expect(wire == "EHLO client.test\r\nAUTH PLAIN AHVzZXIAcGFzcw==\r\ncGFzcw==\r\nMAIL FROM:<a@b.c> SIZE=10 SMTPUTF8\r\n"
            + "RCPT TO:<d@e.f>\r\nDATA\r\n.\r\nRSET\r\nNOOP\r\nQUIT\r\nSTARTTLS\r\nHELO h\r\nBDAT 2048\r\n"
            + "BDAT 0 LAST\r\nAUTH LOGIN\r\n")
        // Each command is its wireLine and CRLF, in order.
        #expect(wire == commands.map { $0.wireLine + "\r\n" }.joined())
        let logged = commands.map(\.description).joined(separator: "|")
        #expect(!logged.contains("AHVzZXIAcGFzcw==") && !logged.contains("cGFzcw=="))
        #expect(logged.contains("AUTH PLAIN <redacted>|<redacted>|"))
    }
}

import SidecarCore

extension SMTPReplyDecoder {
    /// Decodes every reply in `text` at once.
    func decodeAll(_ text: String) throws -> [SMTPResponse] {
        var decoder = self
        var buffer = ByteBuffer(string: text)
        var replies: [SMTPResponse] = []
        while let reply = try decoder.decode(buffer: &buffer) { replies.append(reply) }
        return replies
    }
}
