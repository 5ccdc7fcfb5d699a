/// The tokens of an unstructured header value (Subject, custom headers), chosen so that a
/// conforming parser decodes exactly the original text.
///
/// Plain printable ASCII, single-spaced, is written as is and folded at its spaces.
/// Anything else (non-ASCII, tabs, control characters, runs of spaces, leading or
/// trailing spaces, a `=?` that a reader could take for an encoded-word, or a word too long
/// for a line) is written entirely as RFC 2047 encoded-words.
enum UnstructuredText {
    static func tokens(_ text: String, fieldName: String) -> [String] {
        guard !text.isEmpty else { return [] }
        let firstLineUsed = fieldName.utf8.count + 2  // "Name: "
        if let words = plainWords(text, firstLineUsed: firstLineUsed) { return words }
        // RFC 2047 §2: a line holding encoded-words is at most 76 characters.
        let firstMax = 76 - firstLineUsed
        return EncodedWord.encode(text, firstMaxLength: firstMax >= EncodedWord.minimumLength ? firstMax : EncodedWord.maxLength)
    }

    private static func plainWords(_ text: String, firstLineUsed: Int) -> [String]? {
        let bytes = text.utf8
        guard bytes.first != ASCII.space, bytes.last != ASCII.space else { return nil }
        // Printable ASCII with no double space and no "=?", in one pass over the bytes.
        var previous: UInt8 = 0
        for byte in bytes {
            guard (32...126).contains(byte) else { return nil }
            if byte == ASCII.space && previous == ASCII.space { return nil }
            if byte == UInt8(ascii: "?") && previous == ASCII.equals { return nil }
            previous = byte
        }
        let words = text.split(separator: " ").map(String.init)
        guard let first = words.first, firstLineUsed + first.utf8.count <= HeaderFolder.maxLineLength,
            words.allSatisfy({ 1 + $0.utf8.count <= HeaderFolder.maxLineLength })
        else { return nil }
        return words
    }
}
