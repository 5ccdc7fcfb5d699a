import SidecarCore
import SidecarMessage
import Testing

/// Hostile or broken input, each refused with its own code and the field it came from.
@Suite struct MaliciousInputTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let draft: MessageDraft
        let code: ErrorCode
        let field: DraftField?
        var defaultFrom: String? = nil

        var testDescription: String { name }
    }

    static func with(_ change: (inout MessageDraft) -> Void) -> MessageDraft {
        var draft = minimalDraft()
        change(&draft)
        return draft
    }

    static let injection = "\r\nBcc: victim@example.net"

    static let cases: [Case] = [
        // Header injection: CR, LF or both, in every field that reaches a header.
        Case(name: "CRLF in from", draft: with { $0.from = "alice@example.com" + injection }, code: .headerForbiddenCharacters, field: .from),
        Case(name: "LF in to", draft: with { $0.to = ["bob@example.org\nBcc: victim@example.net"] }, code: .headerForbiddenCharacters, field: .to(index: nil)),
        Case(name: "CR in to", draft: with { $0.to = ["bob@example.org\rBcc: victim@example.net"] }, code: .headerForbiddenCharacters, field: .to(index: nil)),
        Case(name: "CRLF in second to entry", draft: with { $0.to = ["bob@example.org", "carol@example.org" + injection] }, code: .headerForbiddenCharacters, field: .to(index: nil)),
        Case(name: "CRLF in second entry of a to array", draft: with { $0.to = ["bob@example.org", "carol@example.org" + injection]; $0.arrayAddressFields = [.to] }, code: .headerForbiddenCharacters, field: .to(index: 1)),
        Case(name: "invalid third entry of a cc array", draft: with { $0.cc = ["a@example.org", "b@example.org", "not an address"]; $0.arrayAddressFields = [.cc] }, code: .invalidAddress, field: .cc(index: 2)),
        Case(name: "CRLF in cc", draft: with { $0.cc = ["carol@example.org" + injection] }, code: .headerForbiddenCharacters, field: .cc(index: nil)),
        Case(name: "CRLF in bcc", draft: with { $0.bcc = ["dave@example.org" + injection] }, code: .headerForbiddenCharacters, field: .bcc(index: nil)),
        Case(name: "CRLF in reply_to", draft: with { $0.replyTo = "replies@example.com" + injection }, code: .headerForbiddenCharacters, field: .replyTo),
        Case(name: "CRLF in a display name", draft: with { $0.to = ["\"Bob\r\nBcc: victim@example.net\" <bob@example.org>"] }, code: .headerForbiddenCharacters, field: .to(index: nil)),
        Case(name: "CRLF in subject", draft: with { $0.subject = "Hello" + injection }, code: .headerForbiddenCharacters, field: .subject),
        Case(name: "LF in subject", draft: with { $0.subject = "Hello\nworld" }, code: .headerForbiddenCharacters, field: .subject),
        Case(name: "CR in subject", draft: with { $0.subject = "Hello\rworld" }, code: .headerForbiddenCharacters, field: .subject),
        Case(name: "CRLF in a header value", draft: with { $0.headers = [CustomHeader(name: "X-Tag", value: "a" + injection)] }, code: .headerForbiddenCharacters, field: .header(index: 0, .value)),
        Case(name: "LF in a header value", draft: with { $0.headers = [CustomHeader(name: "X-Tag", value: "a\nb")] }, code: .headerForbiddenCharacters, field: .header(index: 0, .value)),
        Case(name: "CRLF in a header name", draft: with { $0.headers = [CustomHeader(name: "X-Tag" + injection, value: "a")] }, code: .headerForbiddenCharacters, field: .header(index: 0, .name)),
        Case(name: "CRLF in a filename", draft: with { $0.attachments = [AttachmentDraft(filename: "a.pdf" + injection, content: .base64("YQ=="))] }, code: .headerForbiddenCharacters, field: .attachment(index: 0, .filename)),
        Case(name: "LF in the second filename", draft: with { $0.attachments = [AttachmentDraft(filename: "ok.pdf", content: .base64("YQ==")), AttachmentDraft(filename: "a\n.pdf", content: .base64("YQ=="))] }, code: .headerForbiddenCharacters, field: .attachment(index: 1, .filename)),
        Case(name: "CRLF in a content type", draft: with { $0.attachments = [AttachmentDraft(filename: "a.txt", contentType: "text/plain" + injection, content: .base64("YQ=="))] }, code: .headerForbiddenCharacters, field: .attachment(index: 0, .contentType)),
        Case(name: "CRLF in a content id", draft: with { $0.attachments = [AttachmentDraft(filename: "a.png", content: .base64("YQ=="), contentID: "logo" + injection, isInline: true)] }, code: .headerForbiddenCharacters, field: .attachment(index: 0, .contentID)),
        Case(name: "CRLF in the credential's From", draft: with { $0.from = nil }, code: .headerForbiddenCharacters, field: .from, defaultFrom: "team@example.com" + injection),

        // Header names and counts.
        Case(name: "51 custom headers", draft: with { $0.headers = (0..<51).map { CustomHeader(name: "X-H\($0)", value: "v") } }, code: .tooManyHeaders, field: .headers),
        Case(name: "header name with a space", draft: with { $0.headers = [CustomHeader(name: "X Tag", value: "v")] }, code: .headerNameInvalid, field: .header(index: 0, .name)),
        Case(name: "header name with a colon", draft: with { $0.headers = [CustomHeader(name: "X-Tag:", value: "v")] }, code: .headerNameInvalid, field: .header(index: 0, .name)),
        Case(name: "empty header name", draft: with { $0.headers = [CustomHeader(name: "", value: "v")] }, code: .headerNameInvalid, field: .header(index: 0, .name)),
        Case(name: "non-ASCII header name", draft: with { $0.headers = [CustomHeader(name: "X-Grüße", value: "v")] }, code: .headerNameInvalid, field: .header(index: 0, .name)),
        Case(name: "X-Priority with priority set", draft: with { $0.priority = .high; $0.headers = [CustomHeader(name: "x-priority", value: "5")] }, code: .headerReserved, field: .header(index: 0, .name)),
        Case(name: "999-byte header value", draft: with { $0.headers = [CustomHeader(name: "X-Big", value: String(repeating: "v", count: 999))] }, code: .headerValueTooLong, field: .header(index: 0, .value)),

        // Sizes.
        Case(name: "999-character subject", draft: with { $0.subject = String(repeating: "s", count: 999) }, code: .subjectTooLong, field: .subject),
        Case(name: "999-character non-ASCII subject", draft: with { $0.subject = String(repeating: "ü", count: 999) }, code: .subjectTooLong, field: .subject),
        Case(name: "10 MB + 1 text body", draft: with { $0.text = String(repeating: "a", count: 10_000_001) }, code: .bodyTooLarge, field: .text),
        Case(name: "10 MB + 1 HTML body", draft: with { $0.bodyFormat = .html; $0.html = String(repeating: "a", count: 10_000_001) }, code: .bodyTooLarge, field: .html),
        Case(name: "10 MB + 1 bytes of multi-byte text", draft: with { $0.text = String(repeating: "é", count: 5_000_000) + "a" }, code: .bodyTooLarge, field: .text),

        // Attachments.
        Case(name: "broken base64", draft: with { $0.attachments = [AttachmentDraft(filename: "a.pdf", content: .base64("JVBERi0*xLjQK"))] }, code: .attachmentInvalidBase64, field: .attachment(index: 0, .contentBase64)),
        Case(name: "base64 as a data URL", draft: with { $0.attachments = [AttachmentDraft(filename: "a.png", content: .base64("data:image/png;base64,iVBORw0KGgo="))] }, code: .attachmentInvalidBase64, field: .attachment(index: 0, .contentBase64)),
        Case(name: "truncated base64", draft: with { $0.attachments = [AttachmentDraft(filename: "ok.txt", content: .base64("YQ==")), AttachmentDraft(filename: "a.pdf", content: .base64("YWJjZ"))] }, code: .attachmentInvalidBase64, field: .attachment(index: 1, .contentBase64)),
        Case(name: "data after base64 padding", draft: with { $0.attachments = [AttachmentDraft(filename: "a.pdf", content: .base64("YQ==YQ=="))] }, code: .attachmentInvalidBase64, field: .attachment(index: 0, .contentBase64)),
        Case(name: "empty filename", draft: with { $0.attachments = [AttachmentDraft(filename: " ", content: .base64("YQ=="))] }, code: .attachmentInvalid, field: .attachment(index: 0, .filename)),
        Case(name: "control character in filename", draft: with { $0.attachments = [AttachmentDraft(filename: "a\u{0}.pdf", content: .base64("YQ=="))] }, code: .attachmentInvalid, field: .attachment(index: 0, .filename)),
        Case(name: "256-byte filename", draft: with { $0.attachments = [AttachmentDraft(filename: String(repeating: "f", count: 252) + ".pdf", content: .base64("YQ=="))] }, code: .attachmentInvalid, field: .attachment(index: 0, .filename)),
        Case(name: "invalid content type", draft: with { $0.attachments = [AttachmentDraft(filename: "a.pdf", contentType: "pdf", content: .base64("YQ=="))] }, code: .attachmentInvalid, field: .attachment(index: 0, .contentType)),
        Case(name: "multipart content type", draft: with { $0.attachments = [AttachmentDraft(filename: "a.eml", contentType: "multipart/mixed; boundary=x", content: .base64("YQ=="))] }, code: .attachmentInvalid, field: .attachment(index: 0, .contentType)),
        Case(name: "inline without content id", draft: with { $0.attachments = [AttachmentDraft(filename: "a.png", content: .base64("YQ=="), isInline: true)] }, code: .attachmentInvalid, field: .attachment(index: 0, .contentID)),
        Case(name: "content id with spaces", draft: with { $0.attachments = [AttachmentDraft(filename: "a.png", content: .base64("YQ=="), contentID: "my logo", isInline: true)] }, code: .attachmentInvalid, field: .attachment(index: 0, .contentID)),
        Case(name: "duplicate content id", draft: with { $0.attachments = [AttachmentDraft(filename: "a.png", content: .base64("YQ=="), contentID: "logo", isInline: true), AttachmentDraft(filename: "b.png", content: .base64("YQ=="), contentID: "<logo>", isInline: true)] }, code: .attachmentInvalid, field: .attachment(index: 1, .contentID)),
        Case(name: "21 attachments", draft: with { $0.attachments = (0..<21).map { AttachmentDraft(filename: "a\($0).txt", content: .base64("YQ==")) } }, code: .tooManyAttachments, field: .attachments),

        // Address lists with quotes and commas.
        Case(name: "unquoted comma in a display name", draft: with { $0.to = ["Doe, John <john@example.org>"] }, code: .invalidAddress, field: .to(index: nil)),
        Case(name: "unterminated quote", draft: with { $0.to = ["\"Doe, John <john@example.org>, jane@example.org"] }, code: .invalidAddress, field: .to(index: nil)),
        Case(name: "quote inside an unquoted local part", draft: with { $0.cc = ["jo\"hn@example.org"] }, code: .invalidAddress, field: .cc(index: nil)),
        Case(name: "stray angle bracket", draft: with { $0.bcc = ["jane@example.org>"] }, code: .invalidAddress, field: .bcc(index: nil)),
        Case(name: "address group", draft: with { $0.to = ["team: a@example.org, b@example.org;"] }, code: .invalidAddress, field: .to(index: nil)),
        Case(name: "name without brackets", draft: with { $0.to = ["John john@example.org"] }, code: .invalidAddress, field: .to(index: nil)),
        Case(name: "two reply-to addresses", draft: with { $0.replyTo = "a@example.com, b@example.com" }, code: .invalidAddress, field: .replyTo),
        Case(name: "two from addresses", draft: with { $0.from = "a@example.com, b@example.com" }, code: .invalidAddress, field: .from),
        Case(name: "malformed from", draft: with { $0.from = "alice at example.com" }, code: .invalidAddress, field: .from),
        Case(name: "malformed credential From", draft: with { $0.from = nil }, code: .invalidAddress, field: .from, defaultFrom: "not-an-address"),
        Case(name: "no sender", draft: with { $0.from = nil }, code: .noSender, field: .from),
        Case(name: "no recipients", draft: with { $0.to = [] }, code: .noRecipients, field: .to(index: nil)),
        Case(name: "only empty recipient entries", draft: with { $0.to = [" , "]; $0.cc = [""] }, code: .noRecipients, field: .to(index: nil)),
        Case(name: "101 recipients", draft: with { $0.to = (0..<60).map { "to\($0)@example.org" }; $0.bcc = (0..<41).map { "bcc\($0)@example.org" } }, code: .tooManyRecipients, field: .to(index: nil)),
    ]

    @Test(arguments: cases)
    func isRefusedWithItsCode(testCase: Case) throws {
        let error = try #require(compositionError(testCase.draft, defaultFrom: testCase.defaultFrom))
        #expect(error.code == testCase.code)
        #expect(error.field == testCase.field)
        #expect(!error.retryable)
        #expect(!error.message.isEmpty)
        #expect(!error.message.contains("\r") && !error.message.contains("\n"))
    }

    static let reservedVariants: [String] = CustomHeader.reservedNames.sorted().flatMap { name in
        let upper = name.uppercased()
        let title = name.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: "-")
        let alternating = String(name.enumerated().map { $0.offset % 2 == 0 ? Character($0.element.uppercased()) : $0.element })
        return [name, upper, title, alternating]
    }

    @Test(arguments: reservedVariants)
    func reservedHeadersAreRefusedInEveryCase(name: String) throws {
        var draft = minimalDraft()
        draft.headers = [CustomHeader(name: "X-Fine", value: "ok"), CustomHeader(name: name, value: "forged")]
        let error = try #require(compositionError(draft))
        #expect(error.code == .headerReserved)
        #expect(error.field == .header(index: 1, .name))
        #expect(error.message.contains(name))
    }

    @Test func theLimitsThemselvesAreAccepted() throws {
        var draft = minimalDraft(subject: String(repeating: "s", count: 998))
        draft.headers = (0..<50).map { CustomHeader(name: "X-H\($0)", value: String(repeating: "v", count: $0 == 0 ? 998 : 1)) }
        draft.to = (0..<100).map { "to\($0)@example.org" }
        draft.attachments = (0..<20).map { AttachmentDraft(filename: "a\($0).txt", content: .base64("YQ==")) }
        #expect(compositionError(draft) == nil)
    }

    @Test func errorMessagesNameTheOffendingEntry() throws {
        let error = try #require(compositionError(Self.with { $0.cc = ["ok@example.org, \"Doe, J\" <j@@example.org>"] }))
        #expect(error.message.contains("\"Doe, J\" <j@@example.org>"))
        #expect(error.message.contains("cc"))
        let base64 = try #require(compositionError(Self.with {
            $0.attachments = [AttachmentDraft(filename: "invoice.pdf", content: .base64("JVBE*"))]
        }))
        #expect(base64.message.contains("invoice.pdf"))
        #expect(base64.message.contains("position 4"))
    }
}
