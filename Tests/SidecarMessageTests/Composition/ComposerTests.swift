import Foundation
import SidecarCore
import SidecarMessage
import Testing

@Suite struct ComposerTests {
    @Test func composesAMinimalMessageExactly() async throws {
        let text = try await messageText(minimalDraft())
        #expect(text == """
            Date: Tue, 05 Mar 2024 14:03:09 +0000\r
            From: alice@example.com\r
            To: bob@example.org\r
            Subject: Hello\r
            Message-ID: <0123456789abcdef0123456789abcdef@example.com>\r
            MIME-Version: 1.0\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Transfer-Encoding: 7bit\r
            \r
            Hi Bob.\r

            """)
    }

    /// The default unique ID (Message-ID's left part and the boundary stem): 128 random
    /// bits as 32 lowercase hex digits, leading zeros kept.
    @Test func randomUniqueIDsAre32HexDigitsAndDiffer() {
        let ids = (0..<200).map { _ in MessageComposer.randomUniqueID() }
        for id in ids {
            #expect(id.utf8.count == 32 && id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }, "\(id)")
        }
        #expect(Set(ids).count == ids.count)
        // Every position takes more than one value, so no nibble is stuck (a shift bug).
        for position in 0..<32 {
            #expect(Set(ids.map { Array($0.utf8)[position] }).count > 1, "position \(position)")
        }
    }

    @Test func returnsTheEnvelopeAndMessageID() throws {
        let message = try makeComposer().compose(
            MessageDraft(
                from: "Alice <alice@example.com>", to: ["bob@example.org, Carol <carol@example.org>"],
                cc: ["dave@example.net"], bcc: ["eve@example.net"], text: "x"))
        #expect(message.envelope.reversePath == "alice@example.com")
        #expect(message.envelope.recipients == ["bob@example.org", "carol@example.org", "dave@example.net", "eve@example.net"])
        #expect(message.messageID == "<0123456789abcdef0123456789abcdef@example.com>")
        #expect(message.from.displayName == "Alice")
        #expect(!message.requiresSMTPUTF8)
        #expect(!message.requires8BitMIME)
    }

    @Test func bccIsInTheEnvelopeButNeverInTheMessage() async throws {
        let draft = MessageDraft(
            from: "alice@example.com", to: ["bob@example.org"], bcc: ["Hidden Person <hidden@example.net>"], text: "x")
        let message = try makeComposer().compose(draft)
        #expect(message.envelope.recipients.contains("hidden@example.net"))
        let text = String(decoding: try await message.serialize(), as: UTF8.self)
        #expect(!text.contains("hidden"))
        #expect(!text.lowercased().contains("bcc"))
    }

    @Test func aMessageWithOnlyBccRecipientsHasNoToHeader() async throws {
        let draft = MessageDraft(from: "alice@example.com", bcc: ["hidden@example.net"], text: "x")
        let headers = unfoldedHeaders(try await messageText(draft))
        #expect(!headers.contains { $0.name == "To" || $0.name == "Cc" })
    }

    @Test func duplicatesAcrossToCcAndBccAreSentOnce() async throws {
        let draft = MessageDraft(
            from: "alice@example.com",
            to: ["bob@example.org, Bob Again <bob@EXAMPLE.org>", "carol@example.org"],
            cc: ["Carol <carol@example.org>", "dave@example.org"],
            bcc: ["bob@example.org", "dave@example.org", "erin@example.org"],
            text: "x")
        let message = try makeComposer().compose(draft)
        #expect(message.envelope.recipients == ["bob@example.org", "carol@example.org", "dave@example.org", "erin@example.org"])
        let headers = unfoldedHeaders(String(decoding: try await message.serialize(), as: UTF8.self))
        #expect(headers.first { $0.name == "To" }?.value == "bob@example.org, carol@example.org")
        #expect(headers.first { $0.name == "Cc" }?.value == "dave@example.org")
    }

    @Test func localPartsAreCaseSensitiveWhenDeduplicating() throws {
        let message = try makeComposer().compose(
            MessageDraft(from: "alice@example.com", to: ["Bob@example.org", "bob@example.org"], text: "x"))
        #expect(message.envelope.recipients == ["Bob@example.org", "bob@example.org"])
    }

    @Test func fromFallsBackToTheCredentialDefault() throws {
        let draft = MessageDraft(to: ["bob@example.org"], text: "x")
        let message = try makeComposer().compose(draft, defaultFrom: "Team <team@example.com>")
        #expect(message.envelope.reversePath == "team@example.com")
        #expect(message.from.displayName == "Team")
        var overriding = draft
        overriding.from = "Override <override@example.net>"
        let overridden = try makeComposer().compose(overriding, defaultFrom: "team@example.com")
        #expect(overridden.envelope.reversePath == "override@example.net")
        #expect(overridden.messageID.hasSuffix("@example.net>"))
    }

    @Test func messageIDUsesTheConfiguredHostname() throws {
        let message = try makeComposer(hostname: "mailer.internal.example").compose(minimalDraft())
        #expect(message.messageID == "<0123456789abcdef0123456789abcdef@mailer.internal.example>")
        let idn = try makeComposer().compose(MessageDraft(from: "a@bücher.example", to: ["b@example.org"]))
        #expect(idn.messageID == "<0123456789abcdef0123456789abcdef@xn--bcher-kva.example>")
    }

    @Test func randomMessageIDsAreUnique() throws {
        let composer = MessageComposer()
        let ids = try (0..<50).map { _ in try composer.compose(minimalDraft()).messageID }
        #expect(Set(ids).count == 50)
        #expect(ids.allSatisfy { $0.hasPrefix("<") && $0.hasSuffix("@example.com>") && $0.count == 1 + 32 + "@example.com>".count })
    }

    @Test(arguments: [
        (MessagePriority.high, "1 (Highest)", "high"),
        (.normal, "3 (Normal)", "normal"),
        (.low, "5 (Lowest)", "low"),
    ])
    func writesPriorityHeaders(priority: MessagePriority, xPriority: String, importance: String) async throws {
        var draft = minimalDraft()
        draft.priority = priority
        let headers = unfoldedHeaders(try await messageText(draft))
        #expect(headers.first { $0.name == "X-Priority" }?.value == xPriority)
        #expect(headers.first { $0.name == "Importance" }?.value == importance)
    }

    @Test func noPriorityMeansNoPriorityHeaders() async throws {
        let headers = unfoldedHeaders(try await messageText(minimalDraft()))
        #expect(!headers.contains { $0.name == "X-Priority" || $0.name == "Importance" })
    }

    @Test func customHeadersKeepTheirOrderAndAreEncodedWhenNeeded() async throws {
        var draft = minimalDraft()
        draft.headers = [
            CustomHeader(name: "X-Campaign", value: "spring-2024"),
            CustomHeader(name: "List-Unsubscribe", value: "<https://example.com/unsubscribe?id=42>"),
            CustomHeader(name: "X-Note", value: "Grüße"),
            CustomHeader(name: "X-Campaign", value: "second"),
            CustomHeader(name: "X-Empty", value: ""),
        ]
        let headers = unfoldedHeaders(try await messageText(draft))
        let custom = headers.filter { $0.name.hasPrefix("X-") || $0.name.hasPrefix("List-") }
        #expect(custom.map(\.name) == ["X-Campaign", "List-Unsubscribe", "X-Note", "X-Campaign", "X-Empty"])
        #expect(custom.map(\.value) == ["spring-2024", "<https://example.com/unsubscribe?id=42>", "=?utf-8?B?R3LDvMOfZQ==?=", "second", ""])
    }

    @Test func anEmptySubjectWritesNoSubjectHeader() async throws {
        let headers = unfoldedHeaders(try await messageText(minimalDraft(subject: "")))
        #expect(!headers.contains { $0.name == "Subject" })
    }

    @Test func textOnlyIsOneTextPlainPart() async throws {
        let text = try await messageText(minimalDraft(text: "Grüße aus Berlin; the rest of this line is plain ASCII.\n"))
        let headers = unfoldedHeaders(text)
        #expect(headers.first { $0.name == "Content-Type" }?.value == "text/plain; charset=utf-8")
        #expect(headers.first { $0.name == "Content-Transfer-Encoding" }?.value == "quoted-printable")
        #expect(text.hasSuffix("\r\n\r\nGr=C3=BC=C3=9Fe aus Berlin; the rest of this line is plain ASCII.\r\n"))
    }

    @Test func htmlWithTextIsMultipartAlternative() async throws {
        var draft = minimalDraft(text: "Plain version")
        draft.bodyFormat = .html
        draft.html = "<p>HTML version</p>"
        let text = try await messageText(draft)
        #expect(text.contains("Content-Type: multipart/alternative;"))
        let plainRange = try #require(text.range(of: "Content-Type: text/plain; charset=utf-8"))
        let htmlRange = try #require(text.range(of: "Content-Type: text/html; charset=utf-8"))
        #expect(plainRange.lowerBound < htmlRange.lowerBound)
        #expect(text.contains("\r\n\r\nPlain version\r\n--=_"))
        #expect(text.contains("\r\n\r\n<p>HTML version</p>\r\n--=_"))
        #expect(!text.contains("multipart/mixed"))
    }

    @Test func htmlWithoutTextGetsADerivedPlainPart() async throws {
        var draft = minimalDraft(text: nil)
        draft.bodyFormat = .html
        draft.html = "<html><head><style>p{}</style></head><body><p>Hello <b>there</b></p><p>See <a href=\"https://example.com\">this</a> &amp; that</p></body></html>"
        let text = try await messageText(draft)
        #expect(text.contains("\r\n\r\nHello there\r\n\r\nSee this (https://example.com) & that\r\n--=_"))
    }

    @Test func emptyHTMLFallsBackToTheTextBody() async throws {
        var draft = minimalDraft(text: "Fallback text")
        draft.bodyFormat = .html
        draft.html = ""
        let text = try await messageText(draft)
        #expect(!text.contains("multipart"))
        #expect(text.hasSuffix("\r\n\r\nFallback text\r\n"))
    }

    @Test func textFormatIgnoresTheHTMLBody() async throws {
        var draft = minimalDraft(text: "Only text")
        draft.html = "<p>not sent</p>"
        let text = try await messageText(draft)
        #expect(!text.contains("not sent"))
        #expect(!text.contains("multipart"))
    }

    @Test func attachmentsMakeMultipartMixed() async throws {
        var draft = minimalDraft(text: "See attached.")
        draft.attachments = [
            AttachmentDraft(filename: "report.pdf", content: .base64("JVBERi0xLjQK")),
            AttachmentDraft(filename: "notes.txt", contentType: "text/plain; charset=utf-8", content: .bytes(Array("notes".utf8))),
        ]
        let text = try await messageText(draft)
        #expect(unfoldedHeaders(text).first { $0.name == "Content-Type" }?.value
            == "multipart/mixed; boundary=\"=_0123456789abcdef0123456789abcdef_m\"")
        #expect(text.contains("Content-Type: application/pdf; name=report.pdf\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=report.pdf\r\n\r\nJVBERi0xLjQK\r\n"))
        #expect(text.contains("Content-Type: text/plain; charset=utf-8; name=notes.txt\r\n"))
        #expect(text.contains("\r\n\r\nbm90ZXM=\r\n--=_"))
        #expect(text.hasSuffix("--=_0123456789abcdef0123456789abcdef_m--\r\n"))
        // Without a trailing line break in the text, a multipart body gains none.
        #expect(text.contains("\r\n\r\nSee attached.\r\n--=_"))
    }

    @Test func attachmentsAreBase64InLinesOf76() async throws {
        var draft = minimalDraft()
        draft.attachments = [AttachmentDraft(filename: "data.bin", content: .bytes((0..<1000).map { UInt8($0 % 251) }))]
        let bytes = try await makeComposer().compose(draft).serialize()
        let text = String(decoding: bytes, as: UTF8.self)
        let body = try #require(text.components(separatedBy: "filename=data.bin\r\n\r\n").last?.components(separatedBy: "\r\n--=_").first)
        let lines = body.components(separatedBy: "\r\n")
        #expect(lines.count == 18)  // 1000 bytes: 1336 characters
        #expect(lines.dropLast().allSatisfy { $0.count == 76 })
        #expect(lines.last?.count == 1336 - 17 * 76)
        #expect(Data(base64Encoded: lines.joined()) == Data((0..<1000).map { UInt8($0 % 251) }))
    }

    @Test func inlineImagesAreRelatedToTheHTML() async throws {
        var draft = minimalDraft(text: "text")
        draft.bodyFormat = .html
        draft.html = "<img src=\"cid:logo@example.com\">"
        draft.attachments = [
            AttachmentDraft(filename: "logo.png", content: .bytes([0x89, 0x50, 0x4E, 0x47]), contentID: "<logo@example.com>", isInline: true),
            AttachmentDraft(filename: "terms.pdf", content: .bytes([1, 2, 3])),
        ]
        let text = try await messageText(draft)
        let mixed = try #require(text.range(of: "multipart/mixed"))
        let alternative = try #require(text.range(of: "multipart/alternative"))
        let related = try #require(text.range(of: "multipart/related"))
        #expect(mixed.lowerBound < alternative.lowerBound && alternative.lowerBound < related.lowerBound)
        #expect(text.contains("Content-Disposition: inline; filename=logo.png\r\nContent-ID: <logo@example.com>\r\n"))
        #expect(text.contains("type=\"text/html\""))
        let terms = try #require(text.range(of: "filename=terms.pdf"))
        #expect(related.lowerBound < terms.lowerBound)
    }

    @Test func nonASCIILocalPartsRequireSMTPUTF8() throws {
        func requires(_ draft: MessageDraft) throws -> Bool { try makeComposer().compose(draft).requiresSMTPUTF8 }
        #expect(try requires(MessageDraft(from: "josé@example.com", to: ["b@example.org"])))
        #expect(try requires(MessageDraft(from: "a@example.com", to: ["b@example.org"], bcc: ["用户@example.org"])))
        #expect(try requires(MessageDraft(from: "a@example.com", to: ["b@example.org"], replyTo: "ответ@example.org")))
        #expect(try !requires(MessageDraft(from: "Zoë <a@bücher.example>", to: ["b@例え.テスト"])))
    }

    @Test func bodiesAreSevenBitCleanWithoutSMTPUTF8() async throws {
        var draft = minimalDraft(subject: "Grüße 🎉", text: "Привет\n日本語\n")
        draft.bodyFormat = .html
        draft.html = "<p>Grüße</p>"
        draft.to = ["Zoë <zoe@bücher.example>"]
        draft.attachments = [AttachmentDraft(filename: "名前.txt", content: .bytes(Array(0...255)))]
        let message = try makeComposer().compose(draft)
        #expect(!message.requiresSMTPUTF8)
        #expect(try await message.serialize().allSatisfy { $0 < 0x80 })
    }

    @Test func smtputf8AddressesAreWrittenAsUTF8() async throws {
        let text = try await messageText(MessageDraft(from: "josé@example.com", to: ["Zoë <zoë@bücher.example>"], text: "x"))
        let headers = unfoldedHeaders(text)
        #expect(headers.first { $0.name == "From" }?.value == "josé@example.com")
        #expect(headers.first { $0.name == "To" }?.value == "=?utf-8?B?Wm/Dqw==?= <zoë@xn--bcher-kva.example>")
    }
}
