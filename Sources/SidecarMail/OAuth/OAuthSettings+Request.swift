import SidecarCore
import SidecarEgress

extension OAuthSettings {
    /// The token endpoint request for a new access token.
    var tokenRequest: OAuthTokenRequest {
        let grant: OAuthTokenRequest.Grant =
            switch flow {
            case .delegated: .refreshToken(refreshToken ?? Secret(""))
            case .clientCredentials: .clientCredentials
            }
        return OAuthTokenRequest(url: tokenURL, grant: grant, clientID: clientID, clientSecret: clientSecret, scope: scope)
    }

    /// The cache key of the credential `id` of `workspace` with these settings: the
    /// endpoint, client and flow, not the refresh token (a rotated one keeps the cache).
    func cacheKey(workspace: String, credentialID: String, fingerprintKey: SecretFingerprint.Key) -> OAuthCredentialKey {
        let identity = Secret("\(flow.rawValue)\u{0}\(tokenURL)\u{0}\(clientID)\u{0}\(scope)")
        let secret = clientSecret.map { Hex.string(SecretFingerprint($0, key: fingerprintKey).bytes) } ?? ""
        return OAuthCredentialKey(
            workspace: workspace, credentialID: credentialID,
            fingerprint: Hex.string(SecretFingerprint(identity, key: fingerprintKey).bytes) + secret)
    }
}
