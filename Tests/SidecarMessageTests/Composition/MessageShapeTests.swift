import Foundation
import SidecarCore
import SidecarMessage
import Testing

/// Properties every composed message has, checked over a set of varied drafts.
@Suite struct MessageShapeTests {
    static let drafts: [MessageDraft] = {
        var drafts: [MessageDraft] = [
            minimalDraft(),
            minimalDraft(text: ""),
            minimalDraft(text: nil),
            minimalDraft(text: "no trailing newline"),
            minimalDraft(text: "bare\nLF\rand CR\r\nmixed\r"),
            minimalDraft(text: String(repeating: "x", count: 998) + "\n" + String(repeating: "y", count: 5000)),
            minimalDraft(text: String(repeating: "Привет ", count: 1000)),
            minimalDraft(text: ".\n..\n.leading dots\n"),
            minimalDraft(subject: String(repeating: "long subject ", count: 76)),
            minimalDraft(subject: String(repeating: "ü", count: 998)),
            minimalDraft(subject: String(repeating: "x", count: 998)),
        ]
        var full = minimalDraft(subject: "Ünïcödé subject with a long tail " + String(repeating: "and more ", count: 20))
        full.to = ["\"Doe, John\" <john@example.org>, Zoë Fälk <zoe@bücher.example>, " + (0..<20).map { "user\($0)@example.org" }.joined(separator: ", ")]
        full.cc = ["Ελληνικά Όνομα <greek@example.org>"]
        full.replyTo = "Replies <replies@example.com>"
        full.bodyFormat = .html
        full.text = "Text part\nwith two lines"
        full.html = "<p>" + String(repeating: "HTML ", count: 400) + "</p>"
        full.priority = .low
        full.headers = [CustomHeader(name: "X-Long", value: String(repeating: "value ", count: 150))]
        full.attachments = [
            AttachmentDraft(filename: "Überweisungsbestätigung für den Monat März 2024 – endgültige Fassung.pdf", content: .bytes(Array(repeating: 7, count: 1000))),
            AttachmentDraft(filename: "empty.bin", content: .bytes([])),
            AttachmentDraft(filename: "a.txt", content: .base64("YWJj")),
            AttachmentDraft(filename: "logo.png", content: .bytes([1, 2]), contentID: "logo", isInline: true),
        ]
        drafts.append(full)
        return drafts
    }()

    @Test(arguments: drafts.indices)
    func byteCountIsExact(index: Int) async throws {
        let message = try makeComposer().compose(Self.drafts[index])
        let bytes = try await message.serialize()
        #expect(message.byteCount == bytes.count)
    }

    @Test(arguments: drafts.indices)
    func linesAreCRLFAndAtMost998Octets(index: Int) async throws {
        let bytes = try await makeComposer().compose(Self.drafts[index]).serialize()
        #expect(bytes.hasOnlyCRLFLineEndings)
        #expect(bytes.suffix(2) == [13, 10])
        let lines = bytes.crlfLines
        #expect(lines.allSatisfy { $0.count <= 998 })
        // Header lines keep to the recommended 78 characters, apart from an address or URL
        // that cannot be broken.
        let headerLines = lines.prefix { !$0.isEmpty }
        #expect(headerLines.allSatisfy { $0.count <= 78 })
    }

    @Test func serialisingTwiceGivesTheSameBytes() async throws {
        let message = try makeComposer().compose(Self.drafts.last!)
        #expect(try await message.serialize() == message.serialize())
    }
}
