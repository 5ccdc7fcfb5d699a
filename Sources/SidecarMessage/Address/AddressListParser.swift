/// Parses what a workflow author writes in To, Cc, Bcc, From and Reply-To: one address or
/// a comma-separated list, each entry `addr@example.com`, `Display Name <addr@example.com>`
/// or `"Doe, Jane" <addr@example.com>`.
///
/// It follows RFC 5322 §3.4 (quoted strings with quoted-pairs, comments, angle-addr) and is
/// lenient where authors commonly are: empty entries (`a@x, , b@y,`) are skipped, and an
/// unquoted display name may contain `.`, `@` and other specials, which the composer quotes
/// or encodes on output. Groups (`team: a@x, b@y;`) and source routes are not accepted.
struct AddressListParser {
    /// An entry that could not be parsed, with the reason as a sentence fragment.
    struct Invalid: Error, Equatable {
        let entry: String
        let reason: String
    }

    static func parse(_ text: String) throws(Invalid) -> [Mailbox] {
        // Nearly every field is one bare address: with no comma, quote, comment, angle
        // bracket, space or tab there is nothing for the lexer to do, and the general path
        // would reach the same addr-spec after copying it scalar by scalar three times.
        if !text.isEmpty, !text.utf8.contains(where: Self.isStructural) {
            return [Mailbox(displayName: nil, address: try address(text, entry: text))]
        }
        return try parseGeneral(text)
    }

    private static func isStructural(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: ","), UInt8(ascii: "\""), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "<"),
            UInt8(ascii: ">"), UInt8(ascii: " "), UInt8(ascii: "\t"):
            true
        default:
            false
        }
    }

    /// The full parser, for any text (`parse` takes a shortcut for a bare address).
    static func parseGeneral(_ text: String) throws(Invalid) -> [Mailbox] {
        var mailboxes: [Mailbox] = []
        for entry in try split(text) {
            let trimmed = String(String.UnicodeScalarView(entry)).trimmingWhitespace()
            guard !trimmed.isEmpty else { continue }
            mailboxes.append(try parseEntry(trimmed))
        }
        return mailboxes
    }

    /// Splits at commas outside quotes, comments and angle brackets.
    private static func split(_ text: String) throws(Invalid) -> [[Unicode.Scalar]] {
        var entries: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        var lexer = Lexer()
        for scalar in text.unicodeScalars {
            if scalar == "," && lexer.isAtTopLevel {
                entries.append(current)
                current = []
                continue
            }
            current.append(scalar)
            lexer.advance(scalar)
        }
        if let problem = lexer.unterminated {
            throw Invalid(entry: String(String.UnicodeScalarView(current)).trimmingWhitespace(), reason: problem)
        }
        entries.append(current)
        return entries
    }

    private static func parseEntry(_ entry: String) throws(Invalid) -> Mailbox {
        let scalars = Array(entry.unicodeScalars)
        var lexer = Lexer()
        var openAngle: Int?
        var closeAngle: Int?
        for (offset, scalar) in scalars.enumerated() {
            if lexer.isAtTopLevel && scalar == "<" {
                guard openAngle == nil else { throw Invalid(entry: entry, reason: "it has more than one <") }
                openAngle = offset
            } else if lexer.angleDepth == 1 && !lexer.inQuotes && lexer.commentDepth == 0 && scalar == ">" {
                closeAngle = offset
            } else if lexer.isAtTopLevel && scalar == ">" {
                throw Invalid(entry: entry, reason: "it has a > without a matching <")
            }
            lexer.advance(scalar)
        }

        guard let openAngle else {
            // A bare addr-spec, possibly with comments around it.
            let spec = try stripComments(scalars, entry: entry).trimmingWhitespace()
            if spec.unicodeScalars.contains(where: { $0 == " " || $0 == "\t" }), !spec.hasPrefix("\"") {
                throw Invalid(entry: entry, reason: "it contains spaces; write a name as Name <address@example.com>")
            }
            return Mailbox(displayName: nil, address: try address(spec, entry: entry))
        }
        guard let closeAngle, closeAngle > openAngle else {
            throw Invalid(entry: entry, reason: "the < is not closed with >")
        }
        let trailing = try stripComments(Array(scalars[(closeAngle + 1)...]), entry: entry)
        guard trailing.trimmingWhitespace().isEmpty else {
            throw Invalid(entry: entry, reason: "something follows the closing >")
        }
        let inner = String(String.UnicodeScalarView(scalars[(openAngle + 1)..<closeAngle])).trimmingWhitespace()
        guard !inner.isEmpty else { throw Invalid(entry: entry, reason: "there is no address between < and >") }
        guard !inner.hasPrefix("@") else { throw Invalid(entry: entry, reason: "source routes (<@host:...>) are not supported") }
        let name = try displayName(Array(scalars[..<openAngle]), entry: entry)
        return Mailbox(displayName: name, address: try address(inner, entry: entry))
    }

    private static func address(_ spec: String, entry: String) throws(Invalid) -> EmailAddress {
        do {
            return try EmailAddress(parsing: spec)
        } catch {
            throw Invalid(entry: entry, reason: error.reason)
        }
    }

    /// The phrase before `<`: quoted strings unquoted, comments removed, whitespace runs
    /// outside quotes collapsed to one space.
    private static func displayName(_ scalars: [Unicode.Scalar], entry: String) throws(Invalid) -> String? {
        var name = String.UnicodeScalarView()
        var inQuotes = false
        var escaped = false
        var commentDepth = 0
        var pendingSpace = false
        for scalar in scalars {
            if inQuotes {
                if escaped {
                    name.append(scalar)
                    escaped = false
                } else if scalar == "\\" {
                    escaped = true
                } else if scalar == "\"" {
                    inQuotes = false
                } else {
                    name.append(scalar)
                }
                continue
            }
            if commentDepth > 0 {
                if escaped {
                    escaped = false
                } else if scalar == "\\" {
                    escaped = true
                } else if scalar == "(" {
                    commentDepth += 1
                } else if scalar == ")" {
                    commentDepth -= 1
                }
                continue
            }
            switch scalar {
            case "\"":
                if pendingSpace, !name.isEmpty { name.append(" ") }
                pendingSpace = false
                inQuotes = true
            case "(":
                commentDepth = 1
                pendingSpace = true
            case " ", "\t":
                pendingSpace = true
            case ")":
                throw Invalid(entry: entry, reason: "it has a ) without a matching (")
            default:
                if pendingSpace, !name.isEmpty { name.append(" ") }
                pendingSpace = false
                name.append(scalar)
            }
        }
        let result = String(name)
        return result.isEmpty ? nil : result
    }

    /// The text with comments removed (quoted strings kept as they are).
    private static func stripComments(_ scalars: [Unicode.Scalar], entry: String) throws(Invalid) -> String {
        var result = String.UnicodeScalarView()
        var lexer = Lexer()
        for scalar in scalars {
            let wasInComment = lexer.commentDepth > 0
            if !lexer.inQuotes && lexer.commentDepth == 0 && scalar == ")" {
                throw Invalid(entry: entry, reason: "it has a ) without a matching (")
            }
            lexer.advance(scalar)
            if !wasInComment && lexer.commentDepth == 0 { result.append(scalar) }
        }
        return String(result)
    }

    /// Tracks quoted strings, comments and angle brackets, scalar by scalar.
    private struct Lexer {
        private(set) var inQuotes = false
        private(set) var commentDepth = 0
        private(set) var angleDepth = 0
        private var escaped = false

        var isAtTopLevel: Bool { !inQuotes && commentDepth == 0 && angleDepth == 0 }

        var unterminated: String? {
            if inQuotes { return "a quote is not closed" }
            if commentDepth > 0 { return "a ( is not closed" }
            if angleDepth > 0 { return "the < is not closed with >" }
            return nil
        }

        mutating func advance(_ scalar: Unicode.Scalar) {
            if escaped {
                escaped = false
                return
            }
            if inQuotes {
                switch scalar {
                case "\\": escaped = true
                case "\"": inQuotes = false
                default: break
                }
                return
            }
            if commentDepth > 0 {
                switch scalar {
                case "\\": escaped = true
                case "(": commentDepth += 1
                case ")": commentDepth -= 1
                default: break
                }
                return
            }
            switch scalar {
            case "\"": inQuotes = true
            case "(": commentDepth = 1
            case "<": angleDepth += 1
            case ">": angleDepth = max(0, angleDepth - 1)
            default: break
            }
        }
    }
}
