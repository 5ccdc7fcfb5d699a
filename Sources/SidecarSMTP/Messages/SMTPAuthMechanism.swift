/// A SASL mechanism for SMTP AUTH (RFC 4954) that this client can use.
public enum SMTPAuthMechanism: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// RFC 4616: the username and password in one initial response.
    case plain = "PLAIN"
    /// The de-facto LOGIN mechanism: username and password in two continuation lines.
    case login = "LOGIN"
    /// Google's and Microsoft's OAuth 2.0 bearer-token mechanism.
    case xoauth2 = "XOAUTH2"
    /// RFC 7628: the standard OAuth 2.0 bearer-token mechanism (Gmail, Dovecot, ...).
    case oauthbearer = "OAUTHBEARER"

    public var description: String { rawValue }
}
