import SidecarCore

/// How a stored credential gets its access tokens: which token endpoint, which client,
/// which grant. The client secret and refresh token are ``Secret``s, sealed with the rest
/// of the credential. Not part of the wire protocol: only stored credentials have it (an
/// inline credential brings its own `access_token`).
public struct OAuthSettings: Sendable, Hashable, CustomStringConvertible {
    /// Whose identity platform: it gives the defaults (endpoint, scope, SMTP host).
    public enum Provider: String, Sendable, Hashable, CaseIterable {
        case google, microsoft, custom
    }

    public enum Flow: String, Sendable, Hashable {
        /// A user's consent, kept as a refresh token.
        case delegated
        /// App-only (Microsoft's client credentials): the app sends as a mailbox it was
        /// granted; no refresh token.
        case clientCredentials = "client_credentials"
    }

    public var provider: Provider
    public var flow: Flow
    /// The token endpoint, `https://`.
    public var tokenURL: String
    public var clientID: String
    public var clientSecret: Secret?
    /// The delegated flow's refresh token; replaced when the endpoint rotates it.
    public var refreshToken: Secret?
    /// Space-separated scopes.
    public var scope: String
    /// Microsoft's tenant (a domain or GUID), recorded for listing.
    public var tenant: String?

    public init(
        provider: Provider, flow: Flow, tokenURL: String, clientID: String, clientSecret: Secret?, refreshToken: Secret?,
        scope: String, tenant: String? = nil
    ) {
        self.provider = provider
        self.flow = flow
        self.tokenURL = tokenURL
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.refreshToken = refreshToken
        self.scope = scope
        self.tenant = tenant
    }

    /// Google's token endpoint, and the scope its SMTP server takes.
    public static let googleTokenURL = "https://oauth2.googleapis.com/token"
    public static let googleScope = "https://mail.google.com/"
    /// Microsoft's v2.0 endpoint of `tenant`, and the SMTP scopes of each flow.
    public static func microsoftTokenURL(tenant: String) -> String {
        "https://login.microsoftonline.com/\(tenant)/oauth2/v2.0/token"
    }
    public static let microsoftDelegatedScope = "https://outlook.office.com/SMTP.Send offline_access"
    /// As Microsoft's Exchange OAuth article gives it for the client credentials flow (the
    /// issue said outlook.office.com; both name Exchange Online, the article is the reference).
    public static let microsoftAppScope = "https://outlook.office365.com/.default"

    /// The SMTP server a provider's mailboxes send through (STARTTLS on 587).
    public var defaultHost: String? {
        switch provider {
        case .google: "smtp.gmail.com"
        case .microsoft: "smtp.office365.com"
        case .custom: nil
        }
    }

    public var description: String {
        "OAuthSettings(\(provider.rawValue), \(flow.rawValue), client \(clientID), \(Secret.redacted))"
    }
}
