import Foundation
import SidecarMessage
import Testing

/// Messages covering every feature, read back by Python's standard `email` package: the
/// decoded subject, addresses, bodies and attachment bytes must equal the input exactly
/// (line breaks normalised to CRLF), with no parser defects.
@Suite struct PythonRoundTripTests {
    typealias Address = PythonEmailParser.ParsedAddress

    struct ExpectedPart: Sendable {
        var contentType: String
        var payload: [UInt8]
        var filename: String? = nil
        var disposition: String? = nil
        var contentID: String? = nil
        var transferEncoding: String? = nil
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var draft: MessageDraft
        var from: [Address]
        var to: [Address]?
        var cc: [Address]? = nil
        var replyTo: [Address]? = nil
        var headers: [String: [String]] = [:]
        var rootType: String
        var parts: [ExpectedPart]
        var requiresSMTPUTF8 = false
        var testDescription: String { name }
    }

    /// The bytes of `text` with every line break as CRLF, plus a final one if asked.
    static func crlf(_ text: String, finalLineBreak: Bool = false) -> [UInt8] {
        var result: [UInt8] = []
        var previousCR = false
        for byte in text.utf8 {
            if previousCR, byte == 10 { previousCR = false; continue }
            previousCR = byte == 13
            if byte == 13 || byte == 10 { result += [13, 10] } else { result.append(byte) }
        }
        if finalLineBreak, !result.isEmpty, result.suffix(2) != [13, 10] { result += [13, 10] }
        return result
    }

    static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    static let trickyText = """
        Hello Zoë,\r
        . a line that starts with a dot\r
        .\r
        ..two dots\r
        From the top: a line that starts with "From "\r
        --=_0123456789abcdef0123456789abcdef_m looks like our boundary\r
        trailing spaces   \r
        trailing tab\t\r
        bare LF next\nbare CR next\rCRLF next\r
        \(String(repeating: "7", count: 998))\r
        \(String(repeating: "8", count: 1500))\r
        Ünïcödé in the middle, and an emoji 🎉, and = signs = everywhere =\r
        \r
        \r
        ends without a line break
        """

    static let pdf = randomBytes(50_000, seed: 1)
    static let docx = randomBytes(3_001, seed: 2)
    static let png = randomBytes(777, seed: 3)
    static let allBytes = (0...255).map(UInt8.init)
    static let longFilename = "Überweisungsbestätigung für den Monat März 2024 – endgültige Fassung (Kopie).pdf"
    static let html = """
        <html><body><p>Hallo <b>Welt</b> – Grüße</p>
        <img src="cid:logo@example.com" alt="Logo">
        <p>\(String(repeating: "long html line ", count: 150))</p>
        .dot line\r\nbare LF\nend</body></html>
        """

    static let kitchenSink = Case(
        name: "every feature",
        draft: MessageDraft(
            from: "Zoë Fälk <zoe@bücher.example>",
            to: [
                "\"Doe, John\" <john@example.org>, \"O'Brien, Máire\" <maire@example.org>",
                "Plain Name <plain@example.org>",
                "bare@example.org",
                "\"Quote \\\"Q\\\" Person\" <q@example.org>",
                "日本 太郎 <taro@例え.テスト>",
            ],
            cc: ["Ελληνικά Όνομα <greek@example.org>", "John Again <john@example.org>"],
            bcc: ["hidden@example.net", "bare@example.org"],
            replyTo: "Support Team (EU) <support@example.com>",
            subject: "Grüße aus München – Ünïcödé Betreff, der so lang ist, dass er über mehrere Zeilen gefaltet werden muss 🎉 und noch etwas mehr Text",
            bodyFormat: .html,
            text: trickyText,
            html: html,
            priority: .high,
            headers: [
                CustomHeader(name: "X-Campaign", value: "Frühling 2024"),
                CustomHeader(name: "X-Long-ASCII", value: (0..<40).map { "token\($0)" }.joined(separator: " ")),
                CustomHeader(name: "X-Spaces", value: "  two  spaces  "),
            ],
            attachments: [
                AttachmentDraft(filename: longFilename, content: .bytes(pdf)),
                AttachmentDraft(filename: "日本語のファイル名.txt", contentType: "text/plain; charset=utf-8", content: .bytes(Array("テキスト\n".utf8))),
                AttachmentDraft(filename: "résumé.docx", content: .base64(Data(docx).base64EncodedString(options: .lineLength64Characters))),
                AttachmentDraft(filename: "logo.png", content: .bytes(png), contentID: "logo@example.com", isInline: true),
                AttachmentDraft(filename: "empty.bin", content: .bytes([])),
                AttachmentDraft(filename: "all \"256\" bytes.bin", content: .source(SlowSource(bytes: allBytes, chunkSize: 10, announcedCount: 256))),
            ]),
        from: [Address("Zoë Fälk", "zoe@xn--bcher-kva.example")],
        to: [
            Address("Doe, John", "john@example.org"), Address("O'Brien, Máire", "maire@example.org"),
            Address("Plain Name", "plain@example.org"), Address("", "bare@example.org"),
            Address("Quote \"Q\" Person", "q@example.org"), Address("日本 太郎", "taro@xn--r8jz45g.xn--zckzah"),
        ],
        cc: [Address("Ελληνικά Όνομα", "greek@example.org")],
        replyTo: [Address("Support Team", "support@example.com")],
        headers: [
            "x-campaign": ["Frühling 2024"],
            "x-long-ascii": [(0..<40).map { "token\($0)" }.joined(separator: " ")],
            "x-spaces": ["  two  spaces  "],
            "x-priority": ["1 (Highest)"],
            "importance": ["high"],
        ],
        rootType: "multipart/mixed",
        parts: [
            ExpectedPart(contentType: "text/plain", payload: crlf(trickyText), transferEncoding: "quoted-printable"),
            ExpectedPart(contentType: "text/html", payload: crlf(html)),
            ExpectedPart(contentType: "image/png", payload: png, filename: "logo.png", disposition: "inline", contentID: "<logo@example.com>"),
            ExpectedPart(contentType: "application/pdf", payload: pdf, filename: longFilename, disposition: "attachment"),
            ExpectedPart(contentType: "text/plain", payload: Array("テキスト\n".utf8), filename: "日本語のファイル名.txt", disposition: "attachment", transferEncoding: "base64"),
            ExpectedPart(contentType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", payload: docx, filename: "résumé.docx", disposition: "attachment"),
            ExpectedPart(contentType: "application/octet-stream", payload: [], filename: "empty.bin", disposition: "attachment"),
            ExpectedPart(contentType: "application/octet-stream", payload: allBytes, filename: "all \"256\" bytes.bin", disposition: "attachment"),
        ])

    static let longASCIISubject = (0..<90).map { "word\($0)" }.joined(separator: " ").prefix(998).trimmingCharacters(in: .whitespaces)

    static let cases: [Case] = [
        kitchenSink,
        Case(
            name: "plain ASCII text without a final line break",
            draft: MessageDraft(from: "alice@example.com", to: ["bob@example.org"], subject: "Status", text: "All good.\nSee you."),
            from: [Address("", "alice@example.com")], to: [Address("", "bob@example.org")], rootType: "text/plain",
            parts: [ExpectedPart(contentType: "text/plain", payload: crlf("All good.\nSee you.", finalLineBreak: true), transferEncoding: "7bit")]),
        Case(
            name: "Cyrillic text is base64",
            draft: MessageDraft(from: "Иван <ivan@example.com>", to: ["Мария <maria@example.org>"], subject: "Привет, Мария!", text: "Привет!\nКак дела?\rВсё хорошо.\r\n"),
            from: [Address("Иван", "ivan@example.com")], to: [Address("Мария", "maria@example.org")], rootType: "text/plain",
            parts: [ExpectedPart(contentType: "text/plain", payload: crlf("Привет!\nКак дела?\rВсё хорошо.\r\n"), transferEncoding: "base64")]),
        Case(
            name: "long ASCII subject and a long recipient list",
            draft: MessageDraft(
                from: "alice@example.com", to: [(0..<40).map { "Person \($0) <person\($0)@example.org>" }.joined(separator: ", ")],
                subject: longASCIISubject, text: "x"),
            from: [Address("", "alice@example.com")], to: (0..<40).map { Address("Person \($0)", "person\($0)@example.org") },
            rootType: "text/plain", parts: [ExpectedPart(contentType: "text/plain", payload: crlf("x\n"))]),
        Case(
            name: "998 characters without a space",
            draft: MessageDraft(from: "alice@example.com", to: ["bob@example.org"], subject: String(repeating: "x", count: 998), text: ""),
            from: [Address("", "alice@example.com")], to: [Address("", "bob@example.org")], rootType: "text/plain",
            parts: [ExpectedPart(contentType: "text/plain", payload: [])]),
        Case(
            name: "998 non-ASCII characters",
            draft: MessageDraft(from: "alice@example.com", to: ["bob@example.org"], subject: String(repeating: "ß日🎉", count: 332) + "ab", text: "x"),
            from: [Address("", "alice@example.com")], to: [Address("", "bob@example.org")], rootType: "text/plain",
            parts: [ExpectedPart(contentType: "text/plain", payload: crlf("x\n"))]),
        Case(
            name: "subjects a naive writer would corrupt",
            draft: MessageDraft(
                from: "\"Weird =?utf-8?B?eA==?= Name\" <alice@example.com>", to: ["bob@example.org"],
                subject: "  =?utf-8?B?bm90IGVuY29kZWQ=?=\tand  spaces ", text: "x"),
            from: [Address("Weird =?utf-8?B?eA==?= Name", "alice@example.com")], to: [Address("", "bob@example.org")],
            rootType: "text/plain", parts: [ExpectedPart(contentType: "text/plain", payload: crlf("x\n"))]),
        Case(
            name: "HTML only derives the text part",
            draft: MessageDraft(
                from: "alice@example.com", to: ["bob@example.org"], subject: "HTML", bodyFormat: .html,
                html: "<h1>Title</h1><p>Para &amp; more</p>"),
            from: [Address("", "alice@example.com")], to: [Address("", "bob@example.org")], rootType: "multipart/alternative",
            parts: [
                ExpectedPart(contentType: "text/plain", payload: Array("Title\r\n\r\nPara & more".utf8)),
                ExpectedPart(contentType: "text/html", payload: Array("<h1>Title</h1><p>Para &amp; more</p>".utf8)),
            ]),
        Case(
            name: "SMTPUTF8 addresses",
            draft: MessageDraft(
                from: "José <josé@example.com>", to: ["Zoë <zoë@bücher.example>", "用户@例え.テスト"], subject: "UTF-8", text: "x"),
            from: [Address("José", "josé@example.com")],
            to: [Address("Zoë", "zoë@xn--bcher-kva.example"), Address("", "用户@xn--r8jz45g.xn--zckzah")],
            rootType: "text/plain", parts: [ExpectedPart(contentType: "text/plain", payload: crlf("x\n"))],
            requiresSMTPUTF8: true),
    ]

    @Test(arguments: cases)
    func pythonReadsBackExactlyWhatWasComposed(testCase: Case) async throws {
        let message = try makeComposer().compose(testCase.draft)
        let bytes = try await message.serialize()
        #expect(message.byteCount == bytes.count)
        #expect(message.requiresSMTPUTF8 == testCase.requiresSMTPUTF8)
        #expect(bytes.hasOnlyCRLFLineEndings)
        #expect(bytes.crlfLines.allSatisfy { $0.count <= 998 })

        let parsed = try PythonEmailParser.parse(bytes)
        // Python flags a non-ASCII local part (RFC 6532) as a defect of RFC 5322; nothing else is allowed.
        let defects = parsed.defects.filter { !(testCase.requiresSMTPUTF8 && $0 == "NonASCIILocalPartDefect") }
        #expect(defects.isEmpty)

        #expect(parsed.subject == testCase.draft.subject)
        #expect(parsed.from == testCase.from)
        #expect(parsed.to == testCase.to)
        #expect(parsed.cc == testCase.cc)
        #expect(parsed.replyTo == testCase.replyTo)
        #expect(parsed.messageID == message.messageID)
        #expect(!parsed.headerNames.contains { $0.lowercased() == "bcc" })
        for (name, values) in testCase.headers {
            #expect(parsed.headers[name] == values, "\(name)")
        }

        #expect(parsed.structure.contentType == testCase.rootType)
        let leaves = parsed.structure.leaves
        #expect(leaves.count == testCase.parts.count)
        for (leaf, expected) in zip(leaves, testCase.parts) {
            #expect(leaf.contentType == expected.contentType)
            #expect(leaf.payload == expected.payload, "\(expected.contentType) \(expected.filename ?? "")")
            #expect(leaf.filename == expected.filename)
            #expect(leaf.disposition == expected.disposition)
            #expect(leaf.contentID == expected.contentID)
            if expected.contentType.hasPrefix("text/"), expected.filename == nil { #expect(leaf.charset == "utf-8") }
            if let encoding = expected.transferEncoding { #expect(leaf.transferEncoding == encoding) }
        }
    }

    @Test func theKitchenSinkUsesEveryStructure() async throws {
        let bytes = try await makeComposer().compose(Self.kitchenSink.draft).serialize()
        let types = try PythonEmailParser.parse(bytes).structure.allParts.map(\.contentType)
        #expect(Array(types.prefix(5)) == ["multipart/mixed", "multipart/alternative", "text/plain", "multipart/related", "text/html"])
    }
}
