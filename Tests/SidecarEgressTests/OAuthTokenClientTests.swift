import NIOCore
import SidecarCore
import Testing

@testable import SidecarEgress

/// The token client against an in-process HTTPS endpoint: verified TLS through the guard,
/// and each way an endpoint can fail.
@Suite struct OAuthTokenClientTests {
    static let granted = #"{"access_token":"at-xyz","token_type":"Bearer","expires_in":5}"#

    static func client(
        allow: [String] = ["127.0.0.1/32"], extraCA: String?, overall: TimeAmount = .seconds(60)
    ) throws -> OAuthTokenClient {
        // Generous limits: these cases check what an answer means, not timing, and in a full
        // run nothing gets a thread for the suite's first ~10 s.
        try OAuthTokenClient(
            configuration: OAuthTokenClientConfiguration(
                connectTimeout: .seconds(30), idleReadTimeout: .seconds(30), overallTimeout: overall, additionalCAPEM: extraCA),
            destinations: DestinationResolver(
                policy: EgressPolicy(allowedCIDRs: allow.compactMap(CIDR.init)),
                resolver: StaticResolver(["files.test": ["127.0.0.1"]])))
    }

    static func request(_ port: Int, path: String = "/token") -> OAuthTokenRequest {
        OAuthTokenRequest(
            url: "https://files.test:\(port)\(path)", grant: .refreshToken(Secret("rt-secret")), clientID: "client",
            clientSecret: Secret("cs-secret"), scope: "https://mail.google.com/")
    }

    static let routes: TestHTTPServer.Route = { path in
        func answer(_ status: String, _ body: String) -> [TestHTTPServer.Step] {
            [.send("HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")]
        }
        switch path {
        case "/token": return answer("200 OK", granted)
        case "/revoked": return answer("400 Bad Request", #"{"error":"invalid_grant"}"#)
        case "/down": return answer("503 Service Unavailable", "")
        case "/redirect": return [.send("HTTP/1.1 302 Found\r\nLocation: https://elsewhere.test/token\r\nContent-Length: 0\r\n\r\n")]
        case "/slow": return [.stall]
        case "/huge": return answer("200 OK", String(repeating: " ", count: 70_000) + granted)
        default: return answer("404 Not Found", "")
        }
    }

    static func failure(_ client: OAuthTokenClient, _ request: OAuthTokenRequest) async -> OAuthTokenError? {
        do {
            _ = try await client.requestToken(request)
            return nil
        } catch {
            return error
        }
    }

    @Test func aTokenIsGrantedOverVerifiedTLS() async throws {
        let credentials = try HTTPSFetchTests.makeCredentials()
        try await TestHTTPServer.with(tls: credentials.serverContext, route: Self.routes) { server in
            let client = try Self.client(extraCA: credentials.certificatePEM)
            let grant = try await client.requestToken(Self.request(server.port))
            #expect(grant.accessToken == Secret("at-xyz"))
            #expect(grant.lifetime == .seconds(5))
            #expect(server.requestedPaths == ["/token"])
        }
    }

    @Test(arguments: [
        ("/revoked", OAuthTokenError.Code.invalidGrant, false),
        ("/down", .unavailable, true),
        ("/redirect", .refused, false),
        ("/huge", .malformed, false),
    ])
    func aFailingEndpointIsClassified(path: String, code: OAuthTokenError.Code, retryable: Bool) async throws {
        let credentials = try HTTPSFetchTests.makeCredentials()
        try await TestHTTPServer.with(tls: credentials.serverContext, route: Self.routes) { server in
            let client = try Self.client(extraCA: credentials.certificatePEM)
            let error = await Self.failure(client, Self.request(server.port, path: path))
            #expect(error?.code == code, "\(String(describing: error))")
            #expect(error?.retryable == retryable)
            #expect(server.requestedPaths == [path], "a redirect is never followed")
        }
    }

    @Test func aSlowEndpointTimesOutRetryably() async throws {
        let credentials = try HTTPSFetchTests.makeCredentials()
        try await TestHTTPServer.with(tls: credentials.serverContext, route: Self.routes) { server in
            let client = try Self.client(extraCA: credentials.certificatePEM, overall: .milliseconds(500))
            let error = await Self.failure(client, Self.request(server.port, path: "/slow"))
            #expect(error?.code == .timedOut, "\(String(describing: error))")
            #expect(error?.retryable == true)
        }
    }

    @Test func anUntrustedCertificateIsRefused() async throws {
        let credentials = try HTTPSFetchTests.makeCredentials()
        try await TestHTTPServer.with(tls: credentials.serverContext, route: Self.routes) { server in
            let client = try Self.client(extraCA: nil)
            let error = await Self.failure(client, Self.request(server.port))
            #expect(error?.code == .unavailable)
            #expect(error?.reason.contains("not trusted") == true, "\(String(describing: error))")
            #expect(server.requestedPaths.isEmpty)
        }
    }

    /// The guard applies: a loopback endpoint that is not allow-listed is never connected to.
    @Test func theEgressGuardRefusesAPrivateEndpoint() async throws {
        let credentials = try HTTPSFetchTests.makeCredentials()
        try await TestHTTPServer.with(tls: credentials.serverContext, route: Self.routes) { server in
            let client = try Self.client(allow: [], extraCA: credentials.certificatePEM)
            let error = await Self.failure(client, Self.request(server.port))
            #expect(error?.code == .forbidden, "\(String(describing: error))")
            #expect(error?.retryable == false)
            #expect(server.requestedPaths.isEmpty)
        }
    }

    @Test func plainHTTPIsRefused() async throws {
        let client = try Self.client(extraCA: nil)
        var request = Self.request(443)
        request.url = "http://files.test/token"
        let error = await Self.failure(client, request)
        #expect(error?.code == .forbidden)
        #expect(error?.reason.contains("not https") == true)
    }
}
