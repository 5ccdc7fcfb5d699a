import Logging
import SidecarCore
import SidecarEgress
import Synchronization
import Testing

@testable import SidecarMail

/// The broker running the token decisions against a fake token endpoint.
@Suite struct OAuthTokenBrokerTests {
    static let key = OAuthCredentialKey(workspace: "ws", credentialID: "cred", fingerprint: "f")
    static let request = OAuthTokenRequest(
        url: "https://login.test/token", grant: .refreshToken(Secret("rt-1")), clientID: "client",
        clientSecret: Secret("cs"), scope: "https://mail.google.com/")

    /// A token endpoint that counts its requests, remembers the refresh tokens it was sent,
    /// and answers after `delay` with `answer`.
    final class FakeEndpoint: Sendable {
        struct State {
            var requests = 0
            var refreshTokensSeen: [Secret] = []
            var answer: Result<OAuthTokenGrant, OAuthTokenError>
        }
        let state: Mutex<State>
        let delay: Duration

        init(delay: Duration = .milliseconds(100), answer: Result<OAuthTokenGrant, OAuthTokenError>) {
            state = Mutex(State(answer: answer))
            self.delay = delay
        }

        var requests: Int { state.withLock { $0.requests } }

        func fetch(_ request: OAuthTokenRequest) async throws(OAuthTokenError) -> OAuthTokenGrant {
            let answer = state.withLock { state in
                state.requests += 1
                if case .refreshToken(let token) = request.grant { state.refreshTokensSeen.append(token) }
                return state.answer
            }
            try? await Task.sleep(for: delay)
            return try answer.get()
        }
    }

    static func grant(_ token: String, refresh: String? = nil) -> Result<OAuthTokenGrant, OAuthTokenError> {
        .success(OAuthTokenGrant(accessToken: Secret(token), lifetime: .seconds(3600), refreshToken: refresh.map(Secret.init)))
    }

    /// The refresh tokens the broker handed over to be stored.
    final class Rotations: Sendable {
        let tokens = Mutex<[Secret]>([])
    }

    static func broker(_ endpoint: FakeEndpoint, rotations: Rotations = Rotations()) -> OAuthTokenBroker {
        OAuthTokenBroker(
            fetch: { request throws(OAuthTokenError) in try await endpoint.fetch(request) },
            onRotation: { _, _, token in rotations.tokens.withLock { $0.append(token) } },
            logger: Logger(label: "test"))
    }

    @Test func twentyConcurrentSendsCauseOneRefresh() async throws {
        let endpoint = FakeEndpoint(answer: Self.grant("at-1"))
        let broker = Self.broker(endpoint)
        let tokens = try await withThrowingTaskGroup(of: Secret.self) { group in
            for _ in 0..<20 {
                group.addTask { try await broker.token(for: Self.key, request: Self.request, deadline: nil).value }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(tokens.count == 20)
        #expect(Set(tokens.map { $0.withRevealedValue { $0 } }) == ["at-1"])
        #expect(endpoint.requests == 1)
        #expect(broker.refreshes == 1)
        // Cached from now on.
        _ = try await broker.token(for: Self.key, request: Self.request, deadline: nil)
        #expect(endpoint.requests == 1)
    }

    /// A rotated refresh token is stored, and the next refresh uses it even when the send
    /// that asks still holds the old one.
    @Test func aRotatedRefreshTokenIsStoredAndUsedNextTime() async throws {
        let endpoint = FakeEndpoint(delay: .zero, answer: Self.grant("at-1", refresh: "rt-2"))
        let rotations = Rotations()
        let broker = Self.broker(endpoint, rotations: rotations)
        let first = try await broker.token(for: Self.key, request: Self.request, deadline: nil)
        #expect(rotations.tokens.withLock { $0 } == [Secret("rt-2")])
        broker.rejected(first, for: Self.key)
        _ = try await broker.token(for: Self.key, request: Self.request, deadline: nil)
        #expect(endpoint.state.withLock { $0.refreshTokensSeen } == [Secret("rt-1"), Secret("rt-2")])
    }

    /// A send whose deadline passes stops waiting; the refresh goes on and serves the next.
    @Test func aWaiterPastItsDeadlineGivesUpWithoutCancellingTheRefresh() async throws {
        let endpoint = FakeEndpoint(delay: .milliseconds(500), answer: Self.grant("at-1"))
        let broker = Self.broker(endpoint)
        do {
            _ = try await broker.token(for: Self.key, request: Self.request, deadline: .now + .milliseconds(50))
            Issue.record("the wait must time out")
        } catch {
            #expect(error.code == .timedOut)
            #expect(error.retryable)
        }
        try await Task.sleep(for: .milliseconds(700))
        let token = try await broker.token(for: Self.key, request: Self.request, deadline: nil)
        #expect(token.value == Secret("at-1"))
        #expect(endpoint.requests == 1)
    }

    /// A refused refresh fails its waiters, and is the answer for a while without asking the
    /// endpoint again.
    @Test func aRevokedGrantIsNotAskedAgainAtOnce() async throws {
        let endpoint = FakeEndpoint(answer: .failure(OAuthTokenError(.invalidGrant, "revoked", retryable: false)))
        let broker = Self.broker(endpoint)
        for _ in 0..<3 {
            do {
                _ = try await broker.token(for: Self.key, request: Self.request, deadline: nil)
                Issue.record("no token may come")
            } catch {
                #expect(error.code == .invalidGrant)
            }
        }
        #expect(endpoint.requests == 1)
        #expect(broker.lastFailure(Self.key) == "revoked")
    }
}
