import SidecarCore

extension Mailbox {
    /// Parses one address or a comma-separated RFC 5322 address list, exactly as the
    /// composer reads To, Cc and Bcc. `field` names the request field in the error.
    public static func parseList(_ text: String, field: String) throws(SidecarError) -> [Mailbox] {
        do {
            return try AddressListParser.parse(text)
        } catch {
            throw SidecarError(
                code: .invalidAddress, message: "\"\(error.entry.prefix(200))\" is not a valid email address: \(error.reason).",
                field: field)
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
