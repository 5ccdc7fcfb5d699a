import SidecarCore
import Testing

@testable import SidecarMail

/// A stored OAuth credential's settings: each provider's defaults, and what cannot work.
@Suite struct OAuthSettingsTests {
    static let secret = Secret("cs")
    static let refresh = Secret("rt")

    @Test func googleDefaults() throws {
        let settings = try OAuthSettings(
            provider: .google, clientID: "c", clientSecret: Self.secret, refreshToken: Self.refresh, clientCredentials: false)
        #expect(settings.tokenURL == "https://oauth2.googleapis.com/token")
        #expect(settings.scope == "https://mail.google.com/")
        #expect(settings.defaultHost == "smtp.gmail.com")
        #expect(settings.flow == .delegated)
    }

    @Test func microsoftDefaultsFollowTheFlow() throws {
        let delegated = try OAuthSettings(
            provider: .microsoft, clientID: "c", clientSecret: Self.secret, refreshToken: Self.refresh, clientCredentials: false,
            tenant: "contoso.onmicrosoft.com")
        #expect(delegated.tokenURL == "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token")
        #expect(delegated.scope == "https://outlook.office.com/SMTP.Send offline_access")
        let app = try OAuthSettings(
            provider: .microsoft, clientID: "c", clientSecret: Self.secret, refreshToken: nil, clientCredentials: true,
            tenant: "9188040d-6c67-4c5b-b112-36a304b66dad")
        #expect(app.scope == "https://outlook.office365.com/.default")
        #expect(app.flow == .clientCredentials)
        #expect(app.refreshToken == nil)
        #expect(app.defaultHost == "smtp.office365.com")
    }

    @Test(arguments: [
        (OAuthSettings.Provider.google, "", false, Optional<String>.none, Optional<String>.none, "client_id"),
        (.google, "c", true, nil, nil, "client_credentials"),
        (.microsoft, "c", false, nil, nil, "tenant"),
        (.microsoft, "c", false, "bad/tenant", nil, "tenant"),
        (.custom, "c", false, nil, nil, "token_url"),
        (.custom, "c", false, nil, "http://idp.example/token", "token_url"),
        (.custom, "c", false, nil, "https://user:pw@idp.example/token", "token_url"),
    ])
    func whatCannotWorkIsRefused(
        provider: OAuthSettings.Provider, clientID: String, clientCredentials: Bool, tenant: String?, tokenURL: String?,
        field: String
    ) {
        do {
            _ = try OAuthSettings(
                provider: provider, clientID: clientID, clientSecret: Self.secret, refreshToken: Self.refresh,
                clientCredentials: clientCredentials, tenant: tenant, tokenURL: tokenURL)
            Issue.record("expected a refusal")
        } catch {
            #expect(error.code == .invalidParams)
            #expect(error.field == field)
        }
    }

    @Test func aDelegatedFlowNeedsARefreshToken() {
        #expect(throws: SidecarError.self) {
            try OAuthSettings(provider: .google, clientID: "c", clientSecret: Self.secret, refreshToken: nil, clientCredentials: false)
        }
    }

    @Test func theDescriptionHidesTheSecrets() throws {
        let settings = try OAuthSettings(
            provider: .google, clientID: "c", clientSecret: Secret("cs-hidden"), refreshToken: Secret("rt-hidden"),
            clientCredentials: false)
        #expect(!"\(settings)".contains("hidden"))
        #expect(!String(reflecting: settings).contains("hidden"))
    }
}
