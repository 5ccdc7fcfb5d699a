/// A MIME header parameter (`name="value"`) written as RFC 2045 allows when it can be,
/// and per RFC 2231 otherwise.
///
/// - A token value is written bare, other printable ASCII (without `"` and `\`) as a
///   quoted-string.
/// - A value with non-ASCII or control characters, or too long for one line, uses RFC 2231
///   extended notation with the UTF-8 charset, percent-encoded and cut into numbered
///   continuations (`name*0*=utf-8''...; name*1*=...`) at character boundaries so each
///   segment fits on a folded line.
enum MIMEParameter {
    /// Longest `name=value` kept as one segment.
    private static let maxSegmentLength = 72

    /// Header tokens for the parameter, each ending in `;` except the last if `isLast`.
    static func tokens(name: String, value: String, isLast: Bool) -> [String] {
        var tokens = rawTokens(name: name, value: value)
        for index in tokens.indices where !(isLast && index == tokens.count - 1) {
            tokens[index] += ";"
        }
        return tokens
    }

    private static func rawTokens(name: String, value: String) -> [String] {
        if !value.isEmpty, value.utf8.allSatisfy(isTokenCharacter), name.utf8.count + 1 + value.utf8.count <= maxSegmentLength {
            return ["\(name)=\(value)"]
        }
        // Quoted-pairs are valid but mishandled by several mail clients in filenames, so a
        // value with `"` or `\` takes the extended form instead.
        if value.utf8.allSatisfy({ (32...126).contains($0) && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }),
            name.utf8.count + 3 + value.utf8.count <= maxSegmentLength
        {
            return ["\(name)=\"\(value)\""]
        }
        return extendedTokens(name: name, value: value)
    }

    /// RFC 2231 §3 and §4: `name*0*=utf-8''%E2%82%AC...; name*1*=...`.
    private static func extendedTokens(name: String, value: String) -> [String] {
        var segments: [String] = []
        var current = ""
        func header(_ index: Int) -> String {
            index == 0 ? "\(name)*0*=utf-8''" : "\(name)*\(index)*="
        }
        for character in value {
            let encoded = percentEncoded(String(character))
            if !current.isEmpty, header(segments.count).utf8.count + current.utf8.count + encoded.utf8.count > maxSegmentLength {
                segments.append(current)
                current = ""
            }
            current += encoded
        }
        segments.append(current)
        if segments.count == 1 {
            return ["\(name)*=utf-8''\(segments[0])"]
        }
        return segments.enumerated().map { header($0.offset) + $0.element }
    }

    private static func percentEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            if isAttributeCharacter(byte) {
                result.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                result += "%"
                result.unicodeScalars.append(Unicode.Scalar(ASCII.upperHexDigits[Int(byte >> 4)]))
                result.unicodeScalars.append(Unicode.Scalar(ASCII.upperHexDigits[Int(byte & 0x0F)]))
            }
        }
        return result
    }

    /// RFC 2045 `token` characters: printable ASCII except space and tspecials.
    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        guard (33...126).contains(byte) else { return false }
        return !"()<>@,;:\\\"/[]?=".utf8.contains(byte)
    }

    /// RFC 2231 `attribute-char`: a token character other than `*`, `'` and `%`.
    private static func isAttributeCharacter(_ byte: UInt8) -> Bool {
        isTokenCharacter(byte) && byte != UInt8(ascii: "*") && byte != UInt8(ascii: "'") && byte != UInt8(ascii: "%")
    }
}
