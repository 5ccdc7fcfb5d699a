import NIOCore
import SidecarCore
import SidecarSMTP

extension SMTPDestination {
    /// The configuration to connect with now: for a stored OAuth credential, with a current
    /// access token as its credentials and ``SMTPConfiguration/credentialsValidUntil`` its
    /// expiry (phase `auth` failures when no token can be had, before any connection);
    /// otherwise the destination's own. Also returns the token, to report a refusal with.
    func authenticatedConfiguration(deadline: NIODeadline?) async throws(SMTPFailure)
        -> (SMTPConfiguration, OAuthTokenBroker.Token?)
    {
        guard let source = oauth else { return (configuration, nil) }
        let waitUntil = deadline.map { ContinuousClock.now + .nanoseconds(($0 - .now()).nanoseconds) }
        let (credentials, token) = try await source.credentials(deadline: waitUntil)
        var configuration = configuration
        configuration.credentials = credentials
        configuration.credentialsValidUntil = token.expiresAt
        return (configuration, token)
    }

    /// `failure` ended a connection authenticated with `token`: if the server refused the
    /// token, the next connection gets a new one.
    func report(_ failure: SMTPFailure, token: OAuthTokenBroker.Token?) {
        guard let token, let source = oauth, failure.phase == .auth, failure.error.code == .authFailed else { return }
        source.rejected(token)
    }
}
