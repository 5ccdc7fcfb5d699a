/// The tokens of a display name in an address header (RFC 5322 §3.4 `phrase`), chosen so
/// that a conforming parser reads back exactly the same name:
/// - atoms when the name is ASCII words of atext separated by single spaces;
/// - a quoted-string when it is other printable ASCII (commas, dots, quotes...) and short
///   enough for one line;
/// - RFC 2047 encoded-words otherwise (non-ASCII, control characters, `=?`, long names).
enum DisplayName {
    /// Longest quoted-string kept on one line before switching to encoded-words, which fold.
    private static let maxQuotedLength = 70

    static func tokens(_ name: String) -> [String] {
        let bytes = name.utf8
        let printable = bytes.allSatisfy { (32...126).contains($0) }
        if printable, !name.contains("=?") {
            let words = name.split(separator: " ", omittingEmptySubsequences: false)
            if words.allSatisfy({ !$0.isEmpty && $0.unicodeScalars.allSatisfy(EmailAddress.isAtext) }),
                words.allSatisfy({ $0.utf8.count <= maxQuotedLength })
            {
                return words.map(String.init)
            }
            var quoted = "\""
            for scalar in name.unicodeScalars {
                if scalar == "\"" || scalar == "\\" { quoted.unicodeScalars.append("\\") }
                quoted.unicodeScalars.append(scalar)
            }
            quoted += "\""
            if quoted.utf8.count <= maxQuotedLength { return [quoted] }
        }
        return EncodedWord.encode(name)
    }

    /// The tokens of a whole mailbox: the name's tokens and `<addr>`, or the bare address.
    static func mailboxTokens(_ mailbox: Mailbox) -> [String] {
        guard let name = mailbox.displayName else { return [mailbox.address.addressSpec] }
        return tokens(name) + ["<\(mailbox.address.addressSpec)>"]
    }

    /// The tokens of an address list: mailboxes separated by commas.
    static func addressListTokens(_ mailboxes: [Mailbox]) -> [String] {
        var tokens: [String] = []
        for (index, mailbox) in mailboxes.enumerated() {
            var mailboxTokens = mailboxTokens(mailbox)
            if index < mailboxes.count - 1 { mailboxTokens[mailboxTokens.count - 1] += "," }
            tokens += mailboxTokens
        }
        return tokens
    }
}
