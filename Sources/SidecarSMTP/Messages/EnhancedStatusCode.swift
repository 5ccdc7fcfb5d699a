/// RFC 3463 enhanced status codes: `class "." subject "." detail`, where class is 2, 4 or 5
/// and subject and detail are one to three digits.
enum EnhancedStatusCode {
    /// Splits a leading enhanced status code off `text` when it has the same class as
    /// `replyCode` (a `250 5.0.0` prefix is text, not a code) and is followed by a space
    /// or the end of the line. Returns the code and the remaining text.
    static func split(_ text: String, replyCode: Int) -> (code: String?, text: String) {
        let bytes = Array(text.utf8)
        guard let (length, code) = parse(bytes), code.utf8.first == UInt8(ascii: "0") + UInt8(replyCode / 100) else {
            return (nil, text)
        }
        if length == bytes.count { return (code, "") }
        guard bytes[length] == UInt8(ascii: " ") else { return (nil, text) }
        return (code, String(decoding: bytes[(length + 1)...], as: UTF8.self))
    }

    /// The length of the enhanced code at the start of `bytes` and the code, or nil.
    private static func parse(_ bytes: [UInt8]) -> (Int, String)? {
        guard let first = bytes.first, first == UInt8(ascii: "2") || first == UInt8(ascii: "4") || first == UInt8(ascii: "5") else {
            return nil
        }
        var index = 1
        for _ in 0..<2 {
            guard index < bytes.count, bytes[index] == UInt8(ascii: ".") else { return nil }
            index += 1
            let start = index
            while index < bytes.count, index - start < 4, isDigit(bytes[index]) { index += 1 }
            let digits = index - start
            guard (1...3).contains(digits) else { return nil }
        }
        return (index, String(decoding: bytes[..<index], as: UTF8.self))
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
