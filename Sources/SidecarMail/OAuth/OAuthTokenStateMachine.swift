/// Every decision about one OAuth credential's access token, as a pure value: when to use
/// the cached token, when to refresh it, and that only one refresh runs at a time (many
/// concurrent sends for one credential cause one request to the token endpoint).
///
/// The shell (``OAuthTokenBroker``) feeds it events with the current instant and carries out
/// what they return: start a refresh, resume waiters with a token or an error. It never
/// sleeps, locks or does I/O.
///
/// States:
/// - `empty`: no token. → `refreshing` (a request).
/// - `cached`: a token. → `refreshing` (a request at or after its `refreshAt`), `empty`
///   (the server rejected it).
/// - `refreshing`: a refresh is running; requests wait for it, unless the previous token is
///   still usable (then they use it). → `cached` (it succeeded), `failed` (it failed).
/// - `failed`: the last refresh failed; until `retryAt` requests fail at once with its
///   error, rather than each calling a failing endpoint again (a still-usable previous
///   token is used meanwhile). → `refreshing` (a request at or after `retryAt`), `empty`.
struct OAuthTokenStateMachine<Waiter: Hashable & Sendable, Failure: Error & Sendable, Instant: InstantProtocol>: Sendable
where Instant.Duration == Duration {
    typealias Token = OAuthAccessToken<Instant>

    enum State: Sendable {
        case empty
        case cached(Token)
        case refreshing(waiters: [Waiter], previous: Token?)
        case failed(Failure, retryAt: Instant, previous: Token?)
    }

    /// What a request for a token gets.
    enum RequestAction: Sendable {
        /// Use this token.
        case use(Token)
        /// Use this token, and start a refresh (it is close to its end).
        case useAndRefresh(Token)
        /// Start a refresh; the requester waits for it.
        case refreshAndWait
        /// A refresh is running; the requester waits for it.
        case wait
        /// The last refresh failed recently: fail with its error.
        case fail(Failure)
    }

    private(set) var state: State = .empty

    /// A send needs a token at `now`.
    mutating func tokenRequested(by waiter: Waiter, now: Instant) -> RequestAction {
        switch state {
        case .empty:
            state = .refreshing(waiters: [waiter], previous: nil)
            return .refreshAndWait
        case .cached(let token):
            if now < token.refreshAt { return .use(token) }
            if now < token.usableUntil {
                state = .refreshing(waiters: [], previous: token)
                return .useAndRefresh(token)
            }
            state = .refreshing(waiters: [waiter], previous: nil)
            return .refreshAndWait
        case .refreshing(var waiters, let previous):
            if let previous, now < previous.usableUntil { return .use(previous) }
            waiters.append(waiter)
            state = .refreshing(waiters: waiters, previous: nil)
            return .wait
        case .failed(let failure, let retryAt, let previous):
            if let previous, now < previous.usableUntil { return .use(previous) }
            if now < retryAt { return .fail(failure) }
            state = .refreshing(waiters: [waiter], previous: nil)
            return .refreshAndWait
        }
    }

    /// The refresh returned `token`: the waiters to resume with it.
    mutating func refreshSucceeded(_ token: Token) -> [Waiter] {
        let waiters: [Waiter]
        switch state {
        case .refreshing(let waiting, _): waiters = waiting
        case .empty, .cached, .failed: waiters = []
        }
        state = .cached(token)
        return waiters
    }

    /// The refresh failed; no new refresh starts before `retryAt`. The waiters to fail.
    mutating func refreshFailed(_ failure: Failure, retryAt: Instant) -> [Waiter] {
        switch state {
        case .refreshing(let waiters, let previous):
            state = .failed(failure, retryAt: retryAt, previous: previous)
            return waiters
        case .empty, .cached, .failed:
            return []
        }
    }

    /// The server refused `token` (its AUTH failed): it is not used again, and the next
    /// request refreshes. A rejected token other than the current one changes nothing.
    mutating func tokenRejected(_ token: Token) {
        switch state {
        case .cached(let cached) where cached == token:
            state = .empty
        case .refreshing(let waiters, let previous) where previous == token:
            state = .refreshing(waiters: waiters, previous: nil)
        case .failed(let failure, let retryAt, let previous) where previous == token:
            state = .failed(failure, retryAt: retryAt, previous: nil)
        case .empty, .cached, .refreshing, .failed:
            break
        }
    }

    /// `waiter` gave up (its deadline passed, it was cancelled). Returns whether it was
    /// waiting; the refresh goes on for the others, and its token is kept.
    mutating func waiterCancelled(_ waiter: Waiter) -> Bool {
        guard case .refreshing(var waiters, let previous) = state, let index = waiters.firstIndex(of: waiter) else {
            return false
        }
        waiters.remove(at: index)
        state = .refreshing(waiters: waiters, previous: previous)
        return true
    }
}
