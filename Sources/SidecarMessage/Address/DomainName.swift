import FoundationEssentials

/// The domain of an email address, checked and converted to its ASCII form.
///
/// A Unicode (IDN) domain is converted label by label to A-labels (`xn--` + Punycode,
/// RFC 5891 §4.4) after NFC normalisation and lower-casing, so `Bücher.example` becomes
/// `xn--bcher-kva.example` and needs no SMTPUTF8. Label separators U+3002, U+FF0E and
/// U+FF61 count as dots (RFC 3490 §3.1). A domain literal such as `[192.0.2.1]` is kept
/// as written.
struct DomainName: Sendable, Hashable {
    /// RFC 1035: at most 63 octets a label, 253 for the name in text form.
    static let maxLabelOctets = 63
    static let maxOctets = 253

    /// The domain as given, NFC-normalised.
    let unicode: String
    /// The domain with every label in ASCII: what goes in envelopes and headers.
    let ascii: String

    /// Why a domain is refused, phrased to complete "the domain ...".
    struct Invalid: Error, Equatable {
        let reason: String
    }

    init(parsing text: String) throws(Invalid) {
        // A valid name of ASCII letters, digits, hyphens and dots (nearly every domain) is
        // its own ASCII form; anything else, errors included, takes the general path.
        if Self.isPlainHostName(text.utf8) {
            self.init(unicode: text, ascii: text)
        } else {
            try self.init(general: text)
        }
    }

    private init(unicode: String, ascii: String) {
        self.unicode = unicode
        self.ascii = ascii
    }

    /// The full parser, for any text (`init(parsing:)` takes a shortcut for a plain name).
    init(general text: String) throws(Invalid) {
        guard !text.isEmpty else { throw Invalid(reason: "is missing after the @") }
        if text.hasPrefix("[") {
            try Self.checkLiteral(text)
            self.unicode = text
            self.ascii = text
            return
        }
        // ASCII (nearly every domain) is already in normal form and has no ideographic
        // dots. Otherwise normalise to NFC (RFC 5891 section 5.2) with the standard
        // library's own normaliser, which String comparison uses: Foundation's needs ICU.
        let isASCII = text.utf8.allSatisfy { $0 < 0x80 }
        let normalized = isASCII ? text : String(decoding: text._nfcCodeUnits, as: UTF8.self)
        let dotted = isASCII ? text : String(String.UnicodeScalarView(normalized.unicodeScalars.map { scalar in
            switch scalar.value {
            case 0x3002, 0xFF0E, 0xFF61: "."
            default: scalar
            }
        }))
        let labels = dotted.split(separator: ".", omittingEmptySubsequences: false)
        var asciiLabels: [String] = []
        for label in labels {
            asciiLabels.append(try Self.asciiLabel(String(label)))
        }
        let ascii = asciiLabels.joined(separator: ".")
        guard ascii.utf8.count <= Self.maxOctets else {
            throw Invalid(reason: "is longer than \(Self.maxOctets) characters")
        }
        if let last = asciiLabels.last, last.utf8.allSatisfy({ (48...57).contains($0) }) {
            throw Invalid(reason: "ends in a number; write an IP address in brackets, like [192.0.2.1]")
        }
        self.unicode = normalized
        self.ascii = ascii
    }

    /// Whether `bytes` is a valid domain that needs no conversion: letters, digits and
    /// hyphens in dot-separated labels of 1 to 63 octets that neither start nor end with a
    /// hyphen, 253 octets at most, the last label not all digits. One pass, no copies.
    private static func isPlainHostName(_ bytes: String.UTF8View) -> Bool {
        guard !bytes.isEmpty, bytes.count <= maxOctets else { return false }
        var labelLength = 0
        var labelIsNumeric = true
        var previous: UInt8 = UInt8(ascii: ".")
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard labelLength > 0, previous != UInt8(ascii: "-") else { return false }
                labelLength = 0
                labelIsNumeric = true
            } else {
                guard isLetterDigitHyphen(byte) else { return false }
                if labelLength == 0 && byte == UInt8(ascii: "-") { return false }
                labelLength += 1
                guard labelLength <= maxLabelOctets else { return false }
                if !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { labelIsNumeric = false }
            }
            previous = byte
        }
        return labelLength > 0 && previous != UInt8(ascii: "-") && !labelIsNumeric
    }

    /// An address literal as RFC 5321 §4.1.3 writes it, the form an envelope carries:
    /// `[192.0.2.1]` or `[IPv6:2001:db8::1]`. RFC 5322's wider domain-literal (any dtext,
    /// `(`, `)`, `<`, `>`, `,` and `"` among them) is refused: no SMTP server accepts it in
    /// `RCPT TO`, and its specials would read as structure to the address-list parser, so
    /// `"a"@[)x]` would parse inside angle brackets and fail bare. The only standardized
    /// tag of a General-address-literal is `IPv6`.
    private static func checkLiteral(_ text: String) throws(Invalid) {
        guard text.hasSuffix("]"), text.utf8.count >= 3 else {
            throw Invalid(reason: "starts with [ but is not a bracketed address literal")
        }
        let inner = Substring(text.utf8.dropFirst().dropLast())
        let valid: Bool
        if inner.utf8.count > 5, inner.prefix(5).lowercased() == "ipv6:" {
            valid = isIPv6(inner.dropFirst(5))
        } else {
            valid = isIPv4(inner)
        }
        guard valid else {
            throw Invalid(reason: "is not an IP address literal like [192.0.2.1] or [IPv6:2001:db8::1]")
        }
    }

    /// `Snum 3("." Snum)`: four decimal numbers of one to three digits, each at most 255.
    private static func isIPv4(_ text: Substring) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            (1...3).contains(part.utf8.count) && part.utf8.allSatisfy { (48...57).contains($0) } && Int(part)! <= 255
        }
    }

    /// RFC 5321's IPv6-addr: eight groups of one to four hex digits, or fewer around one
    /// `::` (at most six besides it), the last two groups optionally written as IPv4.
    private static func isIPv6(_ text: Substring) -> Bool {
        func groups(_ part: Substring, mayEndInIPv4: Bool) -> Int? {
            guard !part.isEmpty else { return 0 }
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            var count = 0
            for (index, piece) in pieces.enumerated() {
                if mayEndInIPv4, index == pieces.count - 1, piece.contains(".") {
                    guard isIPv4(piece) else { return nil }
                    count += 2
                } else {
                    guard (1...4).contains(piece.utf8.count), piece.utf8.allSatisfy(isHexDigit) else { return nil }
                    count += 1
                }
            }
            return count
        }
        let halves = text.split(separator: "::", maxSplits: 1, omittingEmptySubsequences: false)
        if halves.count == 1 {
            return groups(text, mayEndInIPv4: true) == 8
        }
        guard !halves[1].contains("::"), let head = groups(halves[0], mayEndInIPv4: false),
            let tail = groups(halves[1], mayEndInIPv4: true)
        else { return false }
        return head + tail <= 6
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
            UInt8(ascii: "A")...UInt8(ascii: "F"):
            true
        default:
            false
        }
    }

    private static func asciiLabel(_ label: String) throws(Invalid) -> String {
        guard !label.isEmpty else {
            throw Invalid(reason: "has an empty part (two dots in a row, or a dot at the start or end)")
        }
        let ascii: String
        if label.utf8.allSatisfy({ $0 < 0x80 }) {
            guard label.utf8.allSatisfy(isLetterDigitHyphen) else {
                throw Invalid(reason: "contains a character that is not allowed in a domain name")
            }
            ascii = label
        } else {
            let lowered = label.lowercased()
            guard lowered.unicodeScalars.allSatisfy(isAllowedInUnicodeLabel) else {
                throw Invalid(reason: "contains a character that is not allowed in a domain name")
            }
            guard let encoded = Punycode.encode(lowered) else {
                throw Invalid(reason: "has a part that is too long")
            }
            ascii = "xn--" + encoded
        }
        guard ascii.utf8.count <= maxLabelOctets else {
            throw Invalid(reason: "has a part longer than \(maxLabelOctets) characters")
        }
        guard ascii.utf8.first != UInt8(ascii: "-"), ascii.utf8.last != UInt8(ascii: "-") else {
            throw Invalid(reason: "has a part that starts or ends with a hyphen")
        }
        return ascii
    }

    private static func isLetterDigitHyphen(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }

    /// An approximation of IDNA2008's PVALID: letters, marks and digits of any script,
    /// plus the hyphen and ASCII letters and digits.
    private static func isAllowedInUnicodeLabel(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return isLetterDigitHyphen(UInt8(scalar.value)) }
        switch scalar.properties.generalCategory {
        case .lowercaseLetter, .otherLetter, .modifierLetter, .titlecaseLetter, .uppercaseLetter,
            .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber:
            return true
        default:
            return false
        }
    }
}
