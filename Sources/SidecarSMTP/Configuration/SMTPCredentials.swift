import SidecarCore

/// What the client authenticates with. The password or token is a ``Secret``: it appears
/// only in the AUTH exchange on the wire, never in a log, an error or a description.
public struct SMTPCredentials: Sendable, Hashable, CustomStringConvertible {
    public enum Authenticator: Sendable, Hashable {
        /// A password (or App Password, or API key): AUTH PLAIN or LOGIN.
        case password(Secret)
        /// An OAuth 2.0 access token: AUTH OAUTHBEARER or XOAUTH2.
        case oauth2Token(Secret)
    }

    public var username: String
    public var authenticator: Authenticator
    /// Use this mechanism even if the server does not advertise it; nil chooses from what
    /// the server offers (PLAIN, then LOGIN, for a password; OAUTHBEARER, then XOAUTH2, for a
    /// token).
    public var mechanism: SMTPAuthMechanism?

    public init(username: String, authenticator: Authenticator, mechanism: SMTPAuthMechanism? = nil) {
        self.username = username
        self.authenticator = authenticator
        self.mechanism = mechanism
    }

    public static func password(_ username: String, _ password: Secret, mechanism: SMTPAuthMechanism? = nil) -> Self {
        SMTPCredentials(username: username, authenticator: .password(password), mechanism: mechanism)
    }

    /// A token for `username`'s mailbox; `mechanism` nil chooses from what the server offers.
    public static func oauth2(_ username: String, token: Secret, mechanism: SMTPAuthMechanism? = .xoauth2) -> Self {
        SMTPCredentials(username: username, authenticator: .oauth2Token(token), mechanism: mechanism)
    }

    public var description: String {
        "SMTPCredentials(username: \(username), \(Secret.redacted))"
    }
}
