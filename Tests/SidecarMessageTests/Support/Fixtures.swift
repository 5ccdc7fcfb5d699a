import Foundation
import SidecarCore
import SidecarMessage
import Testing

/// A composer with a fixed clock and sequential ids, so messages are byte-for-byte stable.
func makeComposer(limits: MessageLimits = MessageLimits(), hostname: String? = nil) -> MessageComposer {
    MessageComposer(
        limits: limits,
        hostname: hostname,
        clock: { Date(timeIntervalSince1970: 1_709_647_389) },  // Tue, 05 Mar 2024 14:03:09 UTC
        makeUniqueID: { "0123456789abcdef0123456789abcdef" })
}

/// A draft with a sender and one recipient, for tests that vary one field.
func minimalDraft(
    to: [String] = ["bob@example.org"], subject: String? = "Hello", text: String? = "Hi Bob."
) -> MessageDraft {
    MessageDraft(from: "alice@example.com", to: to, subject: subject, text: text)
}

/// The error `compose` throws for `draft`, or nil when it succeeds.
func compositionError(
    _ draft: MessageDraft, composer: MessageComposer = makeComposer(), defaultFrom: String? = nil
) -> CompositionError? {
    do {
        _ = try composer.compose(draft, defaultFrom: defaultFrom)
        return nil
    } catch {
        return error
    }
}

/// The message as text (for assertions on its ASCII/UTF-8 lines).
func messageText(_ draft: MessageDraft, composer: MessageComposer = makeComposer()) async throws -> String {
    let message = try composer.compose(draft)
    return String(decoding: try await message.serialize(), as: UTF8.self)
}

/// The header block of a serialised message, unfolded, as (name, value) pairs.
func unfoldedHeaders(_ text: String) -> [(name: String, value: String)] {
    let block = text.components(separatedBy: "\r\n\r\n").first ?? ""
    let unfolded = block.replacingOccurrences(of: "\r\n ", with: " ")
    return unfolded.components(separatedBy: "\r\n").compactMap { line in
        guard let colon = line.firstIndex(of: ":") else { return nil }
        return (String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
    }
}

extension [UInt8] {
    /// The lines of a CRLF-terminated byte sequence, without their CRLF.
    var crlfLines: [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = startIndex
        var index = startIndex
        while index < endIndex {
            if self[index] == 13, index + 1 < endIndex, self[index + 1] == 10 {
                lines.append(self[start..<index])
                index += 2
                start = index
            } else {
                index += 1
            }
        }
        if start < endIndex { lines.append(self[start..<endIndex]) }
        return lines
    }

    /// Whether every CR is followed by LF and every LF preceded by CR.
    var hasOnlyCRLFLineEndings: Bool {
        for (offset, byte) in enumerated() {
            if byte == 13, offset + 1 >= count || self[offset + 1] != 10 { return false }
            if byte == 10, offset == 0 || self[offset - 1] != 13 { return false }
        }
        return true
    }
}
