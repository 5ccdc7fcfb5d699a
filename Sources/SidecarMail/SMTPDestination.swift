import SidecarEgress
import SidecarSMTP

/// An SMTP server the mail operations may connect to: a credential's configuration pinned
/// to the addresses the SSRF guard vetted for its host and port.
///
/// The transports (``MailTransport``) and the pool's connection factory take nothing else,
/// and a ``VettedDestination`` comes only from the guard, so no operation can open an SMTP
/// connection to a host that skipped it.
public struct SMTPDestination: Sendable {
    /// The configuration to connect with: its host and port are the vetted ones and its
    /// `addresses` are the vetted addresses, so the SMTP client never resolves a name.
    public let configuration: SMTPConfiguration
    /// For a stored OAuth credential: where each new connection gets its token (the
    /// configuration then has no credentials of its own).
    public internal(set) var oauth: OAuthTokenSource?

    /// Pins `configuration` to `vetted`: the host, port and addresses come from `vetted`.
    public init(_ configuration: SMTPConfiguration, pinnedTo vetted: VettedDestination) {
        var configuration = configuration
        configuration.host = vetted.host
        configuration.port = vetted.port
        configuration.addresses = vetted.addresses
        self.configuration = configuration
    }
}
