extension Mailbox {
    /// Parses one address or a comma-separated RFC 5322 address list, exactly as the
    /// composer reads To, Cc and Bcc.
    public static func parseList(_ text: String) throws(AddressListError) -> [Mailbox] {
        do {
            return try AddressListParser.parse(text)
        } catch {
            throw AddressListError(entry: error.entry, reason: error.reason)
        }
    }
}

extension EmailAddress {
    /// The address compared the way a mailbox owner thinks of it: local part and domain
    /// both case-insensitive (RFC 5321 lets servers treat local parts case-sensitively,
    /// but no real mailbox does, and a loop guard must err on the side of refusing).
    public var caseInsensitiveKey: String {
        localPart.lowercased() + "@" + asciiDomain.lowercased()
    }
}
