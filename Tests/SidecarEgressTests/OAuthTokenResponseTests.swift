import SidecarCore
import Testing

@testable import SidecarEgress

/// Reading a token endpoint's answer, and writing the request's form body.
@Suite struct OAuthTokenResponseTests {
    static let endpoint = "the token endpoint https://login.test/token"
    static let refresh = Secret("rt-1/abc+def")
    static let clientSecret = Secret("cs-very secret&=")

    static func read(_ status: Int, _ json: String) -> Result<OAuthTokenGrant, OAuthTokenError> {
        OAuthTokenResponse.read(status: status, body: Array(json.utf8), secrets: [refresh, clientSecret], endpoint: endpoint)
    }

    @Test func aGrantIsRead() throws {
        let grant = try Self.read(200, #"{"access_token":"at-1","token_type":"Bearer","expires_in":3599,"scope":"s"}"#).get()
        #expect(grant.accessToken == Secret("at-1"))
        #expect(grant.lifetime == .seconds(3599))
        #expect(grant.refreshToken == nil)
        #expect(!"\(grant)".contains("at-1"))
    }

    @Test(arguments: [#""expires_in":"3600""#, #""expires_in":3600.0"#, #""ext_expires_in":1"#])
    func expiresInIsANumberAStringOrAbsent(member: String) throws {
        let grant = try Self.read(200, #"{"access_token":"at","token_type":"bearer",\#(member)}"#).get()
        #expect(grant.lifetime == .seconds(3600))
    }

    @Test func aRotatedRefreshTokenIsKept() throws {
        let grant = try Self.read(200, #"{"access_token":"at","token_type":"Bearer","expires_in":5,"refresh_token":"rt-2"}"#).get()
        #expect(grant.refreshToken == Secret("rt-2"))
    }

    @Test(arguments: [
        (400, #"{"error":"invalid_grant","error_description":"AADSTS70008: The refresh token has expired"}"#,
         OAuthTokenError.Code.invalidGrant, false),
        (401, #"{"error":"invalid_client"}"#, .invalidClient, false),
        (400, #"{"error":"unauthorized_client"}"#, .invalidClient, false),
        (400, #"{"error":"invalid_scope"}"#, .refused, false),
        (302, "", .refused, false),
        (500, "<html>oops</html>", .unavailable, true),
        (429, "", .unavailable, true),
        (200, "<html>login</html>", .malformed, true),
        (200, #"{"access_token":"at","token_type":"mac"}"#, .malformed, false),
        (200, #"{"access_token":"","token_type":"Bearer"}"#, .malformed, true),
    ])
    func refusalsAreClassified(status: Int, json: String, code: OAuthTokenError.Code, retryable: Bool) {
        guard case .failure(let error) = Self.read(status, json) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.code == code)
        #expect(error.retryable == retryable)
        #expect(error.reason.hasPrefix(Self.endpoint))
    }

    /// An endpoint that quotes the request's secrets back, with control characters: none
    /// of it reaches the reason as is.
    @Test func whatTheEndpointSaysIsTamed() {
        let echo = #"{"error":"invalid_grant","error_description":"bad rt-1/abc+def for cs-very secret&=\r\nX: y"}"#
        guard case .failure(let error) = Self.read(400, echo) else {
            Issue.record("expected a failure")
            return
        }
        #expect(!error.reason.contains("rt-1/abc+def"))
        #expect(!error.reason.contains("cs-very secret"))
        #expect(!error.reason.contains("\r") && !error.reason.contains("\n"))
        #expect(error.reason.contains("invalid_grant"))
    }

    @Test func theFormBodyIsPercentEncoded() {
        let request = OAuthTokenRequest(
            url: "https://login.test/token", grant: .refreshToken(Self.refresh), clientID: "client id",
            clientSecret: Self.clientSecret, scope: "https://outlook.office.com/SMTP.Send offline_access")
        #expect(String(decoding: request.formBody, as: UTF8.self)
            == "grant_type=refresh_token&refresh_token=rt-1%2Fabc%2Bdef&client_id=client%20id"
            + "&client_secret=cs-very%20secret%26%3D&scope=https%3A%2F%2Foutlook.office.com%2FSMTP.Send%20offline_access")
        #expect(!"\(request)".contains("rt-1") && !"\(request)".contains("cs-very"))
        let app = OAuthTokenRequest(
            url: "https://login.test/t", grant: .clientCredentials, clientID: "c", clientSecret: nil, scope: "")
        #expect(String(decoding: app.formBody, as: UTF8.self) == "grant_type=client_credentials&client_id=c")
    }
}
