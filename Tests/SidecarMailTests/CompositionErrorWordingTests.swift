import SidecarCore
import SidecarMessage
import Testing

@testable import SidecarMail

/// The composer's refusals reach the wire with the same code, message and JSON path as
/// before the composer named its fields as `DraftField`s.
@Suite struct CompositionErrorWordingTests {
    @Test(arguments: [
        (DraftField.from, "params.from"),
        (.replyTo, "params.reply_to"),
        (.to(index: nil), "params.to"),
        (.to(index: 1), "params.to[1]"),
        (.cc(index: nil), "params.cc"),
        (.cc(index: 2), "params.cc[2]"),
        (.bcc(index: nil), "params.bcc"),
        (.bcc(index: 0), "params.bcc[0]"),
        (.subject, "params.subject"),
        (.text, "params.text"),
        (.html, "params.html"),
        (.headers, "params.headers"),
        (.header(index: 1, .name), "params.headers[1].name"),
        (.header(index: 0, .value), "params.headers[0].value"),
        (.attachments, "params.attachments"),
        (.attachment(index: 3, nil), "params.attachments[3]"),
        (.attachment(index: 1, .filename), "params.attachments[1].filename"),
        (.attachment(index: 0, .contentType), "params.attachments[0].content_type"),
        (.attachment(index: 0, .contentID), "params.attachments[0].content_id"),
        (.attachment(index: 2, .contentBase64), "params.attachments[2].content_base64"),
        (.attachment(index: 4, .url), "params.attachments[4].url"),
    ])
    func eachFieldHasItsPath(field: DraftField, path: String) {
        let error = SidecarError(CompositionError(code: .attachmentInvalid, message: "m", field: field))
        #expect(error.field == path)
    }

    static func refusal(_ change: (inout MessageDraft) -> Void) throws -> SidecarError {
        var draft = MessageDraft(from: "alice@example.com", to: ["bob@example.org"], subject: "Hi", text: "Hi.")
        change(&draft)
        do {
            _ = try MessageComposer().compose(draft)
        } catch {
            return SidecarError(error)
        }
        throw CompositionError(code: .internalError, message: "the draft was accepted")
    }

    @Test func aComposerRefusalKeepsItsWireShape() throws {
        let error = try Self.refusal {
            $0.attachments = [
                AttachmentDraft(filename: "ok.pdf", content: .base64("YQ==")),
                AttachmentDraft(filename: "a\n.pdf", content: .base64("YQ==")),
            ]
        }
        #expect(error.code == .headerForbiddenCharacters)
        #expect(error.field == "params.attachments[1].filename")
        #expect(!error.retryable)
        #expect(error.message.hasPrefix("The filename of attachments[1] contains a line break"))
    }

    @Test func addressMessagesNameTheFieldWithoutItsPath() throws {
        let invalid = try Self.refusal { $0.cc = ["a@example.org", "not an address"]; $0.arrayAddressFields = [.cc] }
        #expect(invalid.field == "params.cc[1]")
        #expect(invalid.message.hasPrefix("\"not an address\" in cc[1] is not a valid email address"))

        let broken = try Self.refusal { $0.to = ["bob@example.org\r\nBcc: x@example.net"] }
        #expect(broken.field == "params.to")
        #expect(broken.message.hasPrefix("An address in to contains a line break"))

        let two = try Self.refusal { $0.replyTo = "a@example.com, b@example.com" }
        #expect(two.field == "params.reply_to")
        #expect(two.message == "reply_to takes a single address, but 2 were given.")
    }
}
