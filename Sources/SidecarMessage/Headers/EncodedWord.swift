/// RFC 2047 encoded-words in the `B` encoding and the UTF-8 charset:
/// `=?utf-8?B?<base64>?=`.
///
/// Text is cut into words at character boundaries (a grapheme cluster that does not fit
/// alone is cut between Unicode scalars), never inside a UTF-8 sequence (§5), and each
/// word is at most 75 characters (§2). The whitespace between adjacent encoded-words is
/// not part of the text (§6.2), so folding between them loses nothing.
enum EncodedWord {
    static let maxLength = 75
    private static let prefix = "=?utf-8?B?"
    private static let suffix = "?="
    /// The shortest word budget that fits any one scalar (4 UTF-8 bytes: 8 base64 characters).
    static let minimumLength = prefix.utf8.count + suffix.utf8.count + 8

    /// Encodes `text` as encoded-words; the first may be limited to `firstMaxLength`
    /// characters so that it fits on the line that holds the field name.
    static func encode(_ text: String, firstMaxLength: Int = maxLength) -> [String] {
        var words: [String] = []
        var current: [UInt8] = []
        var limit = max(firstMaxLength, minimumLength)

        func capacity(_ limit: Int) -> Int {
            // Base64 characters available, in whole groups of 4, as bytes.
            (limit - prefix.utf8.count - suffix.utf8.count) / 4 * 3
        }
        func flush() {
            guard !current.isEmpty else { return }
            words.append(word(current))
            current.removeAll(keepingCapacity: true)
            limit = maxLength
        }

        for character in text {
            let bytes = Array(String(character).utf8)
            if current.count + bytes.count <= capacity(limit) {
                current += bytes
                continue
            }
            flush()
            if bytes.count <= capacity(limit) {
                current = bytes
                continue
            }
            // A grapheme cluster longer than one word: cut between its scalars.
            for scalar in character.unicodeScalars {
                let scalarBytes = Array(String(scalar).utf8)
                if current.count + scalarBytes.count > capacity(limit) { flush() }
                current += scalarBytes
            }
        }
        flush()
        return words
    }

    private static func word(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        var encoder = Base64Encoder()
        encoder.encode(bytes, into: &output)
        encoder.finish(into: &output)
        return prefix + String(decoding: output, as: UTF8.self) + suffix
    }
}
