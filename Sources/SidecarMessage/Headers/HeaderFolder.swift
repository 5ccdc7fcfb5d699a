/// Writes one header field from tokens that may be separated by folding white space
/// (RFC 5322 §2.2.3): tokens are joined by a single space, and the space is replaced by
/// CRLF + space where a line would exceed 78 characters. A token is never split, so the
/// callers keep tokens short (encoded-words are at most 75 characters, addresses at most
/// 256); a line can reach 998 octets only through one long token, and never more.
enum HeaderFolder {
    static let preferredLineLength = 78
    static let maxLineLength = 998

    /// `Name: token token ...` followed by CRLF.
    static func field(_ name: String, _ tokens: [String]) -> [UInt8] {
        var output: [UInt8] = []
        append(name, tokens, to: &output)
        return output
    }

    /// Appends `Name: token token ...` and CRLF to `output` (the composer writes every
    /// header field into one buffer).
    static func append(_ name: String, _ tokens: [String], to output: inout [UInt8]) {
        if output.isEmpty {
            // One space (or CRLF + space) per token; a fold every 40 bytes is ample. Only
            // for an empty buffer: reserving per field would defeat the array's growth.
            let tokenBytes = tokens.reduce(0) { $0 + $1.utf8.count }
            output.reserveCapacity(name.utf8.count + 1 + tokenBytes + tokens.count + 2 + 2 * (tokenBytes / 40))
        }
        output.append(contentsOf: name.utf8)
        output.append(UInt8(ascii: ":"))
        var lineLength = name.utf8.count + 1
        var lineHasToken = false
        for token in tokens {
            let width = token.utf8.count
            let fits = lineLength + 1 + width <= preferredLineLength
            let fitsHard = lineLength + 1 + width <= maxLineLength
            if fits || (!lineHasToken && fitsHard) {
                output.append(ASCII.space)
                lineLength += 1 + width
            } else {
                output.append(contentsOf: ASCII.crlf)
                output.append(ASCII.space)
                lineLength = 1 + width
            }
            output.append(contentsOf: token.utf8)
            lineHasToken = true
        }
        output.append(contentsOf: ASCII.crlf)
    }
}
