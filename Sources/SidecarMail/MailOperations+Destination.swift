import SidecarCore
import SidecarEgress
import SidecarSMTP

extension MailOperations {
    /// The one way from a credential's configuration to an SMTP server, for `send` and
    /// `verify` alike: the SSRF guard resolves the host once, refuses loopback, private,
    /// CGNAT, link-local and metadata addresses (unless the operator allow-lists them) and
    /// pins the connection to what it vetted. Port 25 was already refused with the
    /// configuration (``CredentialResolver``).
    func destination(
        for configuration: SMTPConfiguration, oauth: OAuthTokenSource? = nil, field: String = "params.credential.host"
    ) async throws(SidecarError) -> SMTPDestination {
        let vetted = try await policy.destinations.vet(host: configuration.host, port: configuration.port, field: field)
        var destination = SMTPDestination(configuration, pinnedTo: vetted)
        destination.oauth = oauth
        return destination
    }
}
