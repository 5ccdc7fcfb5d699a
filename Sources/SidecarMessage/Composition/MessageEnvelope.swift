/// The SMTP envelope (RFC 5321 §2.3.1): what goes in MAIL FROM and RCPT TO.
public struct MessageEnvelope: Sendable, Hashable {
    /// The reverse-path address for `MAIL FROM:<...>`: the From address, as an addr-spec
    /// with an ASCII domain. Non-ASCII only in the local part, and then
    /// ``ComposedMessage/requiresSMTPUTF8`` is set.
    public let reversePath: String
    /// Every recipient for `RCPT TO:<...>`: To, then Cc, then Bcc, each address once.
    public let recipients: [String]

    public init(reversePath: String, recipients: [String]) {
        self.reversePath = reversePath
        self.recipients = recipients
    }
}
