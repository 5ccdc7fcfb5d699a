import SidecarCore
import SidecarEgress
import SidecarSMTP

/// Where a connection for a stored OAuth credential gets the token it authenticates with:
/// the broker's cached token for the credential, refreshed when needed. It travels with the
/// ``SMTPDestination``, so that each new connection asks at the moment it authenticates
/// (a pooled connection reused later does not need a token at all).
public struct OAuthTokenSource: Sendable {
    let key: OAuthCredentialKey
    let request: OAuthTokenRequest
    /// The mailbox the token is for (or, app-only, that the app sends as).
    let username: String
    /// `auth`: OAUTHBEARER or XOAUTH2, or nil to take what the server offers.
    let mechanism: SMTPAuthMechanism?
    let broker: OAuthTokenBroker

    /// The credentials to authenticate with now, and the token in them. Fails with
    /// `oauth_reauthorization_required` or `oauth_token_failed`, phase `auth`.
    func credentials(deadline: ContinuousClock.Instant?) async throws(SMTPFailure)
        -> (SMTPCredentials, OAuthTokenBroker.Token)
    {
        do {
            let token = try await broker.token(for: key, request: request, deadline: deadline)
            return (.oauth2(username, token: token.value, mechanism: mechanism), token)
        } catch {
            throw SMTPFailure(error: SidecarError(error), phase: .auth)
        }
    }

    /// The server refused `token`: the next connection gets a new one.
    func rejected(_ token: OAuthTokenBroker.Token) {
        broker.rejected(token, for: key)
    }
}
