import Logging
import SidecarCore
import SidecarEgress
import Synchronization

/// Holds one access token per stored OAuth credential and refreshes it through the token
/// endpoint: a margin before it expires, once however many sends need it at the same time
/// (``OAuthTokenStateMachine`` decides; this runs its decisions). A refresh runs in a task of
/// its own, so a send that stops waiting (its deadline) does not cancel it for the others.
/// A rotated refresh token is handed to ``Rotation`` (to be stored) before the new access
/// token is used, and used for the next refresh even by a send that read the old one.
/// Neither token is ever logged.
public final class OAuthTokenBroker: Sendable {
    public typealias Token = OAuthAccessToken<ContinuousClock.Instant>
    typealias Machine = OAuthTokenStateMachine<Int, OAuthTokenError, ContinuousClock.Instant>
    /// Asks the token endpoint (``OAuthTokenClient/requestToken(_:deadline:)``; tests: a fake).
    public typealias Fetch = @Sendable (OAuthTokenRequest) async throws(OAuthTokenError) -> OAuthTokenGrant
    /// Stores a rotated refresh token for a credential: the one used, and its replacement.
    public typealias Rotation = @Sendable (OAuthCredentialKey, _ used: Secret, _ renewed: Secret) async -> Void
    /// Records how a refresh went: the new token's lifetime, or the failure (for
    /// `credentials list`; never the token).
    public typealias Refreshed = @Sendable (OAuthCredentialKey, Result<Duration, OAuthTokenError>) async -> Void

    private struct Rotated {
        var replaced: Secret
        var by: Secret
    }

    private struct State {
        var machines: [OAuthCredentialKey: Machine] = [:]
        /// Waiters' continuations, or their outcome when it came before they suspended.
        var continuations: [Int: CheckedContinuation<Result<Token, OAuthTokenError>, Never>] = [:]
        var early: [Int: Result<Token, OAuthTokenError>] = [:]
        var nextWaiter = 0
        var rotated: [OAuthCredentialKey: Rotated] = [:]
        var refreshes = 0
        var lastFailure: [OAuthCredentialKey: String] = [:]
    }

    private let state = Mutex(State())
    private let fetch: Fetch
    private let onRotation: Rotation
    private let onRefresh: Refreshed
    /// How long a failed refresh is the answer before the next request tries again; an
    /// `invalid_grant`, for `reauthorizationRetryDelay` (a new refresh token arrives by
    /// `credentials rotate`, read at the next request after it).
    let failureRetryDelay: Duration
    let reauthorizationRetryDelay: Duration
    let logger: Logger

    public init(
        fetch: @escaping Fetch, onRotation: @escaping Rotation, onRefresh: @escaping Refreshed = { _, _ in },
        failureRetryDelay: Duration = .seconds(2), reauthorizationRetryDelay: Duration = .seconds(30), logger: Logger
    ) {
        self.fetch = fetch
        self.onRotation = onRotation
        self.onRefresh = onRefresh
        self.failureRetryDelay = failureRetryDelay
        self.reauthorizationRetryDelay = reauthorizationRetryDelay
        self.logger = logger
    }

    /// Token-endpoint requests made so far (for `stats` and tests).
    public var refreshes: Int { state.withLock { $0.refreshes } }

    /// The last refresh failure of `key`'s credential, cleared by a success.
    public func lastFailure(_ key: OAuthCredentialKey) -> String? { state.withLock { $0.lastFailure[key] } }

    /// An access token for `key`'s credential, refreshed with `request` when needed. Waits
    /// for a refresh at most until `deadline`.
    public func token(for key: OAuthCredentialKey, request: OAuthTokenRequest, deadline: ContinuousClock.Instant?)
        async throws(OAuthTokenError) -> Token
    {
        let now = ContinuousClock.now
        let (waiter, action) = state.withLock { state -> (Int, Machine.RequestAction) in
            state.nextWaiter += 1
            let waiter = state.nextWaiter
            return (waiter, state.machines[key, default: Machine()].tokenRequested(by: waiter, now: now))
        }
        switch action {
        case .use(let token):
            return token
        case .useAndRefresh(let token):
            refresh(key, request)
            return token
        case .fail(let failure):
            throw failure
        case .refreshAndWait:
            refresh(key, request)
            return try await wait(waiter, key: key, deadline: deadline).get()
        case .wait:
            return try await wait(waiter, key: key, deadline: deadline).get()
        }
    }

    /// The server refused `token` (its AUTH failed): the next request refreshes.
    public func rejected(_ token: Token, for key: OAuthCredentialKey) {
        state.withLock { $0.machines[key]?.tokenRejected(token) }
    }

    private func wait(_ waiter: Int, key: OAuthCredentialKey, deadline: ContinuousClock.Instant?) async
        -> Result<Token, OAuthTokenError>
    {
        let timer = deadline.map { deadline in
            Task { [weak self] in
                try await Task.sleep(until: deadline, clock: .continuous)
                self?.giveUp(waiter, key: key, OAuthTokenError(
                    .timedOut, "no access token came from the token endpoint in the time allowed", retryable: true))
            }
        }
        defer { timer?.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let early = state.withLock { state -> Result<Token, OAuthTokenError>? in
                    if let result = state.early.removeValue(forKey: waiter) { return result }
                    state.continuations[waiter] = continuation
                    return nil
                }
                if let early { continuation.resume(returning: early) }
            }
        } onCancel: {
            giveUp(waiter, key: key, OAuthTokenError(.timedOut, "the send was cancelled while it waited for a token", retryable: true))
        }
    }

    /// Ends `waiter`'s wait with `failure`, if it is still waiting.
    private func giveUp(_ waiter: Int, key: OAuthCredentialKey, _ failure: OAuthTokenError) {
        let continuation = state.withLock { state -> CheckedContinuation<Result<Token, OAuthTokenError>, Never>? in
            guard state.machines[key]?.waiterCancelled(waiter) == true else { return nil }
            guard let continuation = state.continuations.removeValue(forKey: waiter) else {
                state.early[waiter] = .failure(failure)
                return nil
            }
            return continuation
        }
        continuation?.resume(returning: .failure(failure))
    }

    /// Resumes `waiters` with `result` (or keeps it for those not yet suspended).
    private func resume(_ waiters: [Int], with result: Result<Token, OAuthTokenError>, state: inout State)
        -> [CheckedContinuation<Result<Token, OAuthTokenError>, Never>]
    {
        var ready: [CheckedContinuation<Result<Token, OAuthTokenError>, Never>] = []
        for waiter in waiters {
            if let continuation = state.continuations.removeValue(forKey: waiter) {
                ready.append(continuation)
            } else {
                state.early[waiter] = result
            }
        }
        return ready
    }

    /// Starts the one refresh of `key`'s credential.
    private func refresh(_ key: OAuthCredentialKey, _ request: OAuthTokenRequest) {
        let request = state.withLock { state -> OAuthTokenRequest in
            state.refreshes += 1
            var request = request
            if case .refreshToken(let given) = request.grant, let rotated = state.rotated[key], rotated.replaced == given {
                request.grant = .refreshToken(rotated.by)
            }
            return request
        }
        let grantedAt = ContinuousClock.now
        Task {
            let outcome: Result<Token, OAuthTokenError>
            do throws(OAuthTokenError) {
                let grant = try await fetch(request)
                if let renewed = grant.refreshToken, case .refreshToken(let used) = request.grant, renewed != used {
                    await onRotation(key, used, renewed)
                    state.withLock { $0.rotated[key] = Rotated(replaced: used, by: renewed) }
                    logger.info("The token endpoint rotated the credential's refresh token; stored", metadata: [
                        "credential_id": "\(key.credentialID)", "workspace_id": "\(key.workspace)",
                    ])
                }
                outcome = .success(Token(value: grant.accessToken, grantedAt: grantedAt, lifetime: grant.lifetime))
                await onRefresh(key, .success(grant.lifetime))
            } catch {
                logger.warning("An access token could not be obtained", metadata: [
                    "credential_id": "\(key.credentialID)", "workspace_id": "\(key.workspace)", "error": "\(error.reason)",
                ])
                outcome = .failure(error)
                await onRefresh(key, .failure(error))
            }
            let now = ContinuousClock.now
            let ready = state.withLock { state in
                let waiters: [Int]
                switch outcome {
                case .success(let token):
                    waiters = state.machines[key, default: Machine()].refreshSucceeded(token)
                    state.lastFailure[key] = nil
                case .failure(let failure):
                    let delay = failure.code == .invalidGrant ? reauthorizationRetryDelay : failureRetryDelay
                    waiters = state.machines[key, default: Machine()].refreshFailed(failure, retryAt: now + delay)
                    state.lastFailure[key] = failure.reason
                }
                return resume(waiters, with: outcome, state: &state)
            }
            for continuation in ready { continuation.resume(returning: outcome) }
        }
    }
}
