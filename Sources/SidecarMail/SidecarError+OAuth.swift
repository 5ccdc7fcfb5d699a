import SidecarCore
import SidecarEgress

extension SidecarError {
    /// Why a stored OAuth credential got no access token, for the user. Nothing was sent.
    init(_ error: OAuthTokenError) {
        switch error.code {
        case .invalidGrant:
            self.init(
                code: .oauthReauthorizationRequired,
                message: "The stored OAuth credential's refresh token was refused (\(error.reason)). The user must sign in "
                    + "and consent again; store the new refresh token with `smtp-sidecar credentials rotate`. Nothing was sent.",
                retryable: false)
        case .invalidClient:
            self.init(
                code: .oauthTokenFailed,
                message: "The token endpoint refused the OAuth client (\(error.reason)). Check the client id and secret of "
                    + "the app registration. Nothing was sent.",
                retryable: false)
        case .refused, .forbidden:
            self.init(
                code: .oauthTokenFailed,
                message: "No access token could be obtained: \(error.reason). Check the credential's OAuth settings. "
                    + "Nothing was sent.",
                retryable: error.retryable)
        case .unavailable, .timedOut, .malformed:
            self.init(
                code: .oauthTokenFailed,
                message: "No access token could be obtained: \(error.reason). Nothing was sent; try again later.",
                retryable: error.retryable)
        }
    }
}
