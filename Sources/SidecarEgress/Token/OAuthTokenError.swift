/// Why no token was obtained. ``reason`` is safe to show a user: it never holds a secret of
/// the request, and what the endpoint said is reduced to printable ASCII and cut short.
public struct OAuthTokenError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// `invalid_grant`: the refresh token was revoked, expired or is unknown; the user
        /// must consent again.
        case invalidGrant
        /// `invalid_client` / `unauthorized_client`: the client id or secret is wrong.
        case invalidClient
        /// Another refusal (`invalid_scope`, `invalid_request`, a redirect...).
        case refused
        /// The endpoint could not be reached, answered 5xx/429/408, or hung up.
        case unavailable
        /// The endpoint did not answer in time.
        case timedOut
        /// The answer was not a token response.
        case malformed
        /// The SSRF guard refused the endpoint's address, or the URL is not `https://`.
        case forbidden
    }

    public var code: Code
    public var reason: String
    public var retryable: Bool

    public init(_ code: Code, _ reason: String, retryable: Bool) {
        self.code = code
        self.reason = reason
        self.retryable = retryable
    }

    public var description: String { "OAuthTokenError(\(code): \(reason))" }
}
