import Foundation
import SidecarMessage

enum TestMessages {
    /// Binary attachment content with every byte value.
    static let attachmentBytes: [UInt8] = (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 / 256) }

    /// Lines that must come through dot-stuffing unchanged.
    static let dottedText = """
        Hello from the SMTP client.
        .leading dot line
        ..two dots
        .
        last line
        """

    static func compose(
        subject: String = "integration test",
        to: [String] = ["alice@example.test"],
        cc: [String] = [],
        bcc: [String] = [],
        from: String = "sender@example.test",
        text: String = dottedText,
        attachments: [AttachmentDraft] = []
    ) throws -> ComposedMessage {
        let draft = MessageDraft(
            from: from,
            to: to,
            cc: cc,
            bcc: bcc,
            subject: subject,
            text: text,
            attachments: attachments
        )
        return try MessageComposer().compose(draft)
    }

    static var binaryAttachment: AttachmentDraft {
        AttachmentDraft(filename: "data.bin", contentType: "application/octet-stream", content: .bytes(attachmentBytes))
    }

    /// The decoded body of the MIME part whose headers name `filename` (base64 only).
    static func attachment(named filename: String, in message: String) -> [UInt8]? {
        let normalized = message.replacingOccurrences(of: "\r\n", with: "\n")
        guard let nameRange = normalized.range(of: "filename=\"\(filename)\"") ?? normalized.range(of: "filename=\(filename)") else {
            return nil
        }
        guard let blank = normalized.range(of: "\n\n", range: nameRange.upperBound..<normalized.endIndex) else { return nil }
        var base64 = ""
        for line in normalized[blank.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("--") || line.isEmpty { break }
            base64 += line
        }
        return Data(base64Encoded: base64).map { Array($0) }
    }

    /// The header block of a delivered message (up to the first empty line), unfolded.
    static func headers(of message: String) -> [String] {
        let normalized = message.replacingOccurrences(of: "\r\n", with: "\n")
        let block = normalized.components(separatedBy: "\n\n").first ?? ""
        var headers: [String] = []
        for line in block.split(separator: "\n") {
            if line.first == " " || line.first == "\t", !headers.isEmpty {
                headers[headers.count - 1] += String(line)
            } else {
                headers.append(String(line))
            }
        }
        return headers
    }
}
