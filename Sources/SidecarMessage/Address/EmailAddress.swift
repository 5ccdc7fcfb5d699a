/// An addr-spec (`local-part@domain`, RFC 5322 §3.4.1), checked, with its domain in
/// ASCII form.
///
/// The local part is kept in its simplest form: a dot-atom as written, or a quoted string
/// when it needs quoting (RFC 5321 §4.1.2 asks for the simplest form). A local part with
/// non-ASCII characters (RFC 6531/6532) is allowed and marks the address as needing
/// SMTPUTF8; a non-ASCII domain is converted to A-labels and needs nothing.
public struct EmailAddress: Sendable, Hashable, CustomStringConvertible {
    /// RFC 5321 §4.5.3.1.1 and §4.5.3.1.3: 64 octets for the local part, 256 for a path
    /// including its angle brackets.
    static let maxLocalPartOctets = 64
    static let maxAddressOctets = 254

    /// The local part as written in the message (quoted when needed).
    public let localPart: String
    /// The domain as given, NFC-normalised (may contain Unicode).
    public let domain: String
    /// The domain in ASCII (A-labels).
    public let asciiDomain: String

    /// `local@ascii-domain`: the form used in MAIL FROM, RCPT TO and the message headers.
    public var addressSpec: String { localPart + "@" + asciiDomain }

    /// Whether the local part has non-ASCII characters, so that sending needs SMTPUTF8.
    public var requiresSMTPUTF8: Bool { !localPart.utf8.allSatisfy { $0 < 0x80 } }

    public var description: String { addressSpec }

    /// Why an addr-spec is refused, phrased as a sentence fragment.
    struct Invalid: Error, Equatable {
        let reason: String
    }

    /// Parses an addr-spec (no display name, no angle brackets).
    init(parsing text: String) throws(Invalid) {
        if let plain = Self.plain(text) {
            self = plain
        } else {
            try self.init(general: text)
        }
    }

    private init(localPart: String, domain: DomainName) {
        self.localPart = localPart
        self.domain = domain.unicode
        self.asciiDomain = domain.ascii
    }

    /// A valid address whose local part is a plain ASCII dot-atom (nearly every address),
    /// checked over its bytes; nil for anything else, errors included, which the general
    /// parser handles.
    private static func plain(_ text: String) -> EmailAddress? {
        let bytes = text.utf8
        guard let at = bytes.lastIndex(of: UInt8(ascii: "@")) else { return nil }
        let local = bytes[..<at]
        guard let first = local.first, let last = local.last, first != UInt8(ascii: "."), last != UInt8(ascii: "."),
            local.count <= maxLocalPartOctets
        else { return nil }
        var previous: UInt8 = 0
        for byte in local {
            if byte == UInt8(ascii: ".") {
                guard previous != UInt8(ascii: ".") else { return nil }
            } else {
                guard byte < 0x80, isAtext(Unicode.Scalar(byte)) else { return nil }
            }
            previous = byte
        }
        guard let domain = try? DomainName(parsing: String(text[bytes.index(after: at)...])),
            local.count + 1 + domain.ascii.utf8.count <= maxAddressOctets
        else { return nil }
        return EmailAddress(localPart: String(text[..<at]), domain: domain)
    }

    /// The full parser, for any text (`init(parsing:)` takes a shortcut for a plain address).
    init(general text: String) throws(Invalid) {
        guard let at = Self.lastAtOutsideQuotes(in: text) else {
            throw Invalid(reason: "it has no @")
        }
        let rawLocal = String(text[..<at])
        // After the @ scalar, not the @ Character: a combining mark after the @ is part of
        // the domain as written (and refused there), not dropped with the @.
        let rawDomain = String(text.unicodeScalars[text.unicodeScalars.index(after: at)...])
        guard !rawLocal.isEmpty else { throw Invalid(reason: "nothing comes before the @") }
        let local = try Self.canonicalLocalPart(rawLocal)
        let domain: DomainName
        do {
            domain = try DomainName(parsing: rawDomain)
        } catch {
            throw Invalid(reason: "the domain \(error.reason)")
        }
        guard local.utf8.count <= Self.maxLocalPartOctets else {
            throw Invalid(reason: "the part before the @ is longer than \(Self.maxLocalPartOctets) characters")
        }
        guard local.utf8.count + 1 + domain.ascii.utf8.count <= Self.maxAddressOctets else {
            throw Invalid(reason: "it is longer than \(Self.maxAddressOctets) characters")
        }
        self.localPart = local
        self.domain = domain.unicode
        self.asciiDomain = domain.ascii
    }

    /// The key under which two addresses are the same mailbox: the local part exactly
    /// (RFC 5321 §2.4 makes it case-sensitive), the domain without regard to case.
    var deduplicationKey: String { localPart + "@" + asciiDomain.lowercased() }

    // MARK: - Local part

    private static func lastAtOutsideQuotes(in text: String) -> String.Index? {
        var inQuotes = false
        var escaped = false
        var found: String.Index?
        var index = text.startIndex
        while index < text.endIndex {
            let scalar = text.unicodeScalars[index]
            if escaped {
                escaped = false
            } else if inQuotes && scalar == "\\" {
                escaped = true
            } else if scalar == "\"" {
                inQuotes.toggle()
            } else if scalar == "@" && !inQuotes {
                found = index
            }
            index = text.unicodeScalars.index(after: index)
        }
        return found
    }

    /// Returns the local part in its simplest correct form.
    private static func canonicalLocalPart(_ raw: String) throws(Invalid) -> String {
        if raw.unicodeScalars.first == "\"" {
            let content = try unquote(raw)
            if isDotAtom(content) { return content }
            return quote(content)
        }
        guard isDotAtom(raw) else {
            if raw.unicodeScalars.contains(where: { $0 == " " || $0 == "\t" }) {
                throw Invalid(reason: "it contains a space")
            }
            if raw.hasPrefix(".") || raw.hasSuffix(".") || raw.contains("..") {
                throw Invalid(reason: "the part before the @ starts or ends with a dot, or has two dots in a row")
            }
            throw Invalid(reason: "the part before the @ contains a character that is not allowed (quote it if it is intended)")
        }
        return raw
    }

    /// The content of a quoted-string local part, with quoted-pairs resolved.
    private static func unquote(_ raw: String) throws(Invalid) -> String {
        var scalars = raw.unicodeScalars.dropFirst()
        guard scalars.last == "\"" else { throw Invalid(reason: "a quote in the part before the @ is not closed") }
        scalars = scalars.dropLast()
        var content = String.UnicodeScalarView()
        var escaped = false
        for scalar in scalars {
            if escaped {
                guard isQuotable(scalar) else { throw Invalid(reason: "the part before the @ contains a control character") }
                content.append(scalar)
                escaped = false
            } else if scalar == "\\" {
                escaped = true
            } else if scalar == "\"" {
                throw Invalid(reason: "the part before the @ has a quote in the wrong place")
            } else {
                guard isQuotable(scalar) else { throw Invalid(reason: "the part before the @ contains a control character") }
                content.append(scalar)
            }
        }
        guard !escaped else { throw Invalid(reason: "a quote in the part before the @ is not closed") }
        guard !content.isEmpty else { throw Invalid(reason: "the part before the @ is an empty quoted string") }
        return String(content)
    }

    private static func quote(_ content: String) -> String {
        var result = "\""
        for scalar in content.unicodeScalars {
            if scalar == "\"" || scalar == "\\" { result.unicodeScalars.append("\\") }
            result.unicodeScalars.append(scalar)
        }
        result += "\""
        return result
    }

    /// dot-atom-text (RFC 5322 §3.2.3) with RFC 6532's UTF-8 extension.
    static func isDotAtom(_ text: String) -> Bool {
        let bytes = text.utf8
        guard let first = bytes.first, let last = bytes.last, first != UInt8(ascii: "."), last != UInt8(ascii: ".") else {
            return false
        }
        var previousWasDot = false
        for byte in bytes {
            let isDot = byte == UInt8(ascii: ".")
            if isDot && previousWasDot { return false }
            previousWasDot = isDot
        }
        return text.unicodeScalars.allSatisfy { $0 == "." || isAtext($0) }
    }

    /// atext (RFC 5322 §3.2.3) plus non-ASCII characters that are not controls or spaces.
    static func isAtext(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9":
            return true
        case "!", "#", "$", "%", "&", "'", "*", "+", "-", "/", "=", "?", "^", "_", "`", "{", "|", "}", "~":
            return true
        default:
            return !scalar.isASCII && isVisibleNonASCII(scalar)
        }
    }

    /// qtext, quoted-pair content and WSP inside a quoted local part.
    private static func isQuotable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return scalar == " " || scalar == "\t" || (0x21...0x7E).contains(scalar.value) }
        return isVisibleNonASCII(scalar)
    }

    private static func isVisibleNonASCII(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .spaceSeparator, .surrogate, .unassigned,
            .privateUse:
            false
        default:
            true
        }
    }
}
