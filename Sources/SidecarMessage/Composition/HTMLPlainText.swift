import FoundationEssentials

/// A readable plain-text rendering of an HTML body, for the text/plain alternative when
/// the author gives only HTML.
///
/// Not an HTML parser: it drops `<head>`, `<style>`, `<script>` and comments, turns
/// block ends and `<br>` into line breaks, writes links as `text (url)`, removes other
/// tags, decodes character references, and collapses whitespace the way a browser would.
enum HTMLPlainText {
    static func render(_ html: String) -> String {
        var output = String.UnicodeScalarView()
        var scalars = html.unicodeScalars[...]
        var pendingSpace = false
        var pendingBreaks = 0
        var linkTarget: String?

        func emit(_ text: String) {
            if pendingBreaks > 0, !output.isEmpty {
                output.append(contentsOf: String(repeating: "\n", count: min(pendingBreaks, 2)).unicodeScalars)
            } else if pendingSpace, !output.isEmpty {
                output.append(" ")
            }
            pendingBreaks = 0
            pendingSpace = false
            output.append(contentsOf: text.unicodeScalars)
        }

        while let scalar = scalars.first {
            switch scalar {
            case "<":
                if scalars.starts(with: "<!--".unicodeScalars) {
                    scalars = skip(scalars, past: "-->")
                    continue
                }
                guard let close = scalars.firstIndex(of: ">") else {
                    scalars = scalars.dropFirst()
                    emit("<")
                    continue
                }
                let tag = String(String.UnicodeScalarView(scalars[scalars.index(after: scalars.startIndex)..<close]))
                scalars = scalars[scalars.index(after: close)...]
                let name = tagName(tag)
                switch name {
                case "head", "style", "script", "title":
                    scalars = skip(scalars, past: "</\(name)", caseInsensitive: true)
                    if let end = scalars.firstIndex(of: ">") { scalars = scalars[scalars.index(after: end)...] }
                case "br":
                    if pendingBreaks > 0, !output.isEmpty {
                        output.append(contentsOf: String(repeating: "\n", count: min(pendingBreaks, 2)).unicodeScalars)
                    }
                    output.append("\n")
                    pendingBreaks = 0
                    pendingSpace = false
                case "p", "/p", "div", "/div", "h1", "h2", "h3", "h4", "h5", "h6", "/h1", "/h2", "/h3", "/h4", "/h5",
                    "/h6", "ul", "/ul", "ol", "/ol", "table", "/table", "blockquote", "/blockquote", "hr":
                    pendingBreaks = max(pendingBreaks, 2)
                case "li":
                    pendingBreaks = max(pendingBreaks, 1)
                    emit("- ")
                case "tr", "/tr", "/li":
                    pendingBreaks = max(pendingBreaks, 1)
                case "td", "th":
                    pendingSpace = true
                case "a":
                    linkTarget = attribute("href", in: tag)
                case "/a":
                    if let target = linkTarget, !target.isEmpty, !target.hasPrefix("#") {
                        pendingSpace = true
                        emit("(\(target))")
                    }
                    linkTarget = nil
                default:
                    break
                }
            case " ", "\t", "\n", "\r", "\u{0C}":
                pendingSpace = true
                scalars = scalars.dropFirst()
            case "&":
                let (decoded, rest) = characterReference(scalars)
                emit(decoded)
                scalars = rest
            default:
                emit(String(scalar))
                scalars = scalars.dropFirst()
            }
        }
        return String(output)
    }

    /// `p` for `<p class=x>`, `/p` for `</p>`, `br` for `<br/>`.
    private static func tagName(_ tag: String) -> String {
        let isClosing = tag.hasPrefix("/")
        let name = tag.dropFirst(isClosing ? 1 : 0).prefix { !$0.isWhitespace && $0 != "/" }
        return (isClosing ? "/" : "") + CustomHeader.asciiLowercased(String(name))
    }

    private static func attribute(_ name: String, in tag: String) -> String? {
        let lowered = CustomHeader.asciiLowercased(tag)
        guard let range = lowered.firstRange(of: "\(name)=") else { return nil }
        var rest = tag[range.upperBound...]
        guard let quote = rest.first else { return nil }
        if quote == "\"" || quote == "'" {
            rest = rest.dropFirst()
            return String(rest.prefix { $0 != quote })
        }
        return String(rest.prefix { !$0.isWhitespace && $0 != ">" })
    }

    private static func skip(
        _ scalars: Substring.UnicodeScalarView, past marker: String, caseInsensitive: Bool = false
    ) -> Substring.UnicodeScalarView {
        let haystack = String(String.UnicodeScalarView(scalars))
        let searched = caseInsensitive ? CustomHeader.asciiLowercased(haystack) : haystack
        guard let range = searched.firstRange(of: marker) else { return scalars[scalars.endIndex...] }
        let offset = searched.unicodeScalars.distance(from: searched.startIndex, to: range.upperBound)
        return scalars[scalars.index(scalars.startIndex, offsetBy: offset)...]
    }

    private static let namedReferences: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{A0}", "copy": "©", "reg": "®",
        "hellip": "…", "mdash": "—", "ndash": "–", "lsquo": "‘", "rsquo": "’", "ldquo": "“", "rdquo": "”",
        "euro": "€", "trade": "™",
    ]

    /// Decodes `&name;`, `&#123;` or `&#x1F600;` at the start of `scalars`.
    private static func characterReference(
        _ scalars: Substring.UnicodeScalarView
    ) -> (String, Substring.UnicodeScalarView) {
        let body = scalars.dropFirst().prefix(12)
        guard let semicolon = body.firstIndex(of: ";") else { return ("&", scalars.dropFirst()) }
        let name = String(String.UnicodeScalarView(body[body.startIndex..<semicolon]))
        let rest = scalars[scalars.index(after: semicolon)...]
        if name.hasPrefix("#") {
            let digits = name.dropFirst()
            let value = digits.first == "x" || digits.first == "X" ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits)
            if let value, let scalar = Unicode.Scalar(value) { return (String(scalar), rest) }
        } else if let decoded = namedReferences[name] {
            return (decoded, rest)
        }
        return ("&", scalars.dropFirst())
    }
}
