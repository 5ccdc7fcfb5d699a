import SidecarCore
import SidecarEgress

extension OAuthSettings {
    /// Settings for `provider` with its defaults filled in: Google's endpoint and scope;
    /// Microsoft's v2.0 endpoint of `tenant` and the scope of the flow; for `custom`, the
    /// given endpoint. `tokenURL` and `scope` given replace the defaults. Refuses what
    /// cannot work (`invalid_params`, naming the option): no client id, a delegated flow
    /// without a refresh token, Microsoft without a tenant, Google with client credentials
    /// (it has none for Gmail), a token endpoint that is not an `https://` URL.
    public init(
        provider: Provider, clientID: String, clientSecret: Secret?, refreshToken: Secret?, clientCredentials: Bool,
        tenant: String? = nil, tokenURL: String? = nil, scope: String? = nil
    ) throws(SidecarError) {
        func invalid(_ message: String, _ field: String) -> SidecarError {
            SidecarError(code: .invalidParams, message: message, field: field)
        }
        let flow: Flow = clientCredentials ? .clientCredentials : .delegated
        guard !clientID.isEmpty else { throw invalid("An OAuth credential needs its app's client id.", "client_id") }
        if flow == .delegated, refreshToken?.isEmpty ?? true {
            throw invalid("A delegated OAuth credential needs the user's refresh token.", "refresh_token")
        }
        if flow == .clientCredentials, clientSecret?.isEmpty ?? true {
            throw invalid("The client credentials flow needs the app's client secret.", "client_secret")
        }
        let endpoint: String
        let defaultScope: String
        switch provider {
        case .google:
            guard flow == .delegated else {
                throw invalid("Google has no client credentials flow for Gmail; use a user's refresh token.", "client_credentials")
            }
            endpoint = tokenURL ?? Self.googleTokenURL
            defaultScope = Self.googleScope
        case .microsoft:
            guard let tenant, !tenant.isEmpty, tenant.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-.".contains($0)) })
            else {
                throw invalid("Microsoft needs the tenant (its domain or id) the app is registered in.", "tenant")
            }
            endpoint = tokenURL ?? Self.microsoftTokenURL(tenant: tenant)
            defaultScope = flow == .delegated ? Self.microsoftDelegatedScope : Self.microsoftAppScope
        case .custom:
            guard let tokenURL else { throw invalid("A custom OAuth credential needs its token endpoint's URL.", "token_url") }
            endpoint = tokenURL
            defaultScope = ""
        }
        let url: AttachmentURL
        do throws(AttachmentURL.Failure) {
            url = try AttachmentURL(endpoint)
        } catch {
            throw invalid("The token endpoint URL \(error).", "token_url")
        }
        guard url.scheme == .https else { throw invalid("The token endpoint must be an https:// URL.", "token_url") }
        self.init(
            provider: provider, flow: flow, tokenURL: endpoint, clientID: clientID, clientSecret: clientSecret,
            refreshToken: flow == .delegated ? refreshToken : nil, scope: scope ?? defaultScope, tenant: tenant)
    }
}
