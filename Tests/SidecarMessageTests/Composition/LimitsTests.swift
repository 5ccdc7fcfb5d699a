import SidecarCore
import SidecarMessage
import Testing

/// Every limit is configurable: lowering it below the input triggers its code, and the
/// default admits what the product documentation promises.
@Suite struct LimitsTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let limits: MessageLimits
        let draft: MessageDraft
        let code: ErrorCode
        var testDescription: String { name }
    }

    static let draft: MessageDraft = {
        var draft = minimalDraft(to: ["a@example.org, b@example.org"], subject: "Twelve chars", text: "0123456789")
        draft.bodyFormat = .html
        draft.html = "<p>0123456789</p>"
        draft.headers = [CustomHeader(name: "X-One", value: "0123456789"), CustomHeader(name: "X-Two", value: "v")]
        draft.attachments = [
            AttachmentDraft(filename: "first-file.txt", content: .bytes(Array(repeating: 1, count: 100))),
            AttachmentDraft(filename: "b.txt", content: .bytes([2])),
        ]
        return draft
    }()

    static let cases: [Case] = [
        Case(name: "text body", limits: MessageLimits(maxTextBodyBytes: 9), draft: draft, code: .bodyTooLarge),
        Case(name: "HTML body", limits: MessageLimits(maxHTMLBodyBytes: 16), draft: draft, code: .bodyTooLarge),
        Case(name: "subject", limits: MessageLimits(maxSubjectLength: 11), draft: draft, code: .subjectTooLong),
        Case(name: "custom headers", limits: MessageLimits(maxCustomHeaders: 1), draft: draft, code: .tooManyHeaders),
        Case(name: "header value", limits: MessageLimits(maxHeaderValueBytes: 9), draft: draft, code: .headerValueTooLong),
        Case(name: "recipients", limits: MessageLimits(maxRecipients: 1), draft: draft, code: .tooManyRecipients),
        Case(name: "attachments", limits: MessageLimits(maxAttachments: 1), draft: draft, code: .tooManyAttachments),
        Case(name: "attachment size", limits: MessageLimits(maxAttachmentBytes: 99), draft: draft, code: .attachmentTooLarge),
        Case(name: "filename", limits: MessageLimits(maxFilenameBytes: 13), draft: draft, code: .attachmentInvalid),
        Case(name: "message size", limits: MessageLimits(maxMessageBytes: 1000), draft: draft, code: .messageTooLarge),
    ]

    @Test func theDraftFitsTheDefaults() {
        #expect(compositionError(Self.draft) == nil)
    }

    @Test(arguments: cases)
    func loweringALimitRefusesWithItsCode(testCase: Case) throws {
        let error = try #require(compositionError(testCase.draft, composer: makeComposer(limits: testCase.limits)))
        #expect(error.code == testCase.code)
    }

    @Test func limitCodesAreDistinctAndRegistered() {
        let codes = Self.cases.map(\.code.rawValue)
        // Body sizes share `body_too_large` (the field tells text from HTML); every other limit has its own code.
        #expect(Set(codes).count == codes.count - 1)
        #expect(Self.cases.allSatisfy { ErrorCode.messageCodes.contains($0.code) })
    }

    @Test func defaultsMatchTheProductDocumentation() {
        let limits = MessageLimits()
        #expect(limits.maxTextBodyBytes == 10_000_000)
        #expect(limits.maxHTMLBodyBytes == 10_000_000)
        #expect(limits.maxSubjectLength == 998)
        #expect(limits.maxCustomHeaders == 50)
    }

    @Test func aBodyOfExactlyTheLimitIsAccepted() {
        let limits = MessageLimits(maxTextBodyBytes: 10, maxHTMLBodyBytes: 17)
        #expect(compositionError(Self.draft, composer: makeComposer(limits: limits)) == nil)
    }

    @Test func messageTooLargeReportsTheSize() throws {
        let error = try #require(compositionError(Self.draft, composer: makeComposer(limits: MessageLimits(maxMessageBytes: 1000))))
        let size = try #require(try makeComposer().compose(Self.draft).byteCount)
        #expect(error.message.contains("\(size) bytes"))
    }
}
