import SidecarCore
import SidecarTestSupport
import Testing

@testable import SidecarMail

/// The access token's decisions, driven synchronously with made-up instants.
@Suite struct OAuthTokenStateMachineTests {
    struct Failure: Error, Hashable { var reason: String }
    typealias Machine = OAuthTokenStateMachine<Int, Failure, MockClock.Instant>
    typealias Token = OAuthAccessToken<MockClock.Instant>

    static func at(_ seconds: Double) -> MockClock.Instant { .seconds(seconds) }

    /// A 5-second token granted at `seconds`: refreshed from +3.75 s, usable until +4.5 s.
    static func token(_ name: String, at seconds: Double) -> Token {
        Token(value: Secret(name), grantedAt: at(seconds), lifetime: .seconds(5))
    }

    @Test func theMarginsFollowTheLifetime() {
        let short = Self.token("t", at: 0)
        #expect(short.expiresAt == Self.at(5))
        #expect(short.refreshAt == Self.at(3.75))
        #expect(short.usableUntil == Self.at(4.5))
        let hour = Token(value: Secret("h"), grantedAt: Self.at(0), lifetime: .seconds(3600))
        #expect(hour.refreshAt == Self.at(3540))
        #expect(hour.usableUntil == Self.at(3590))
    }

    /// Many requests while the first token is fetched: one refresh, everyone resumed.
    @Test func concurrentRequestsShareOneRefresh() {
        var machine = Machine()
        guard case .refreshAndWait = machine.tokenRequested(by: 1, now: Self.at(0)) else {
            Issue.record("the first request must refresh")
            return
        }
        for waiter in 2...20 {
            guard case .wait = machine.tokenRequested(by: waiter, now: Self.at(0.1)) else {
                Issue.record("request \(waiter) must wait, not refresh again")
                return
            }
        }
        let token = Self.token("a", at: 0)
        let resumed = machine.refreshSucceeded(token)
        #expect(resumed == Array(1...20))
        guard case .use(let used) = machine.tokenRequested(by: 21, now: Self.at(1)) else {
            Issue.record("a cached token must be used")
            return
        }
        #expect(used == token)
    }

    /// Near its end the token is still used while one refresh runs ahead; nobody waits.
    @Test func aTokenNearItsEndIsRefreshedAheadWhileStillUsed() {
        var machine = Machine()
        _ = machine.tokenRequested(by: 1, now: Self.at(0))
        let first = Self.token("a", at: 0)
        _ = machine.refreshSucceeded(first)
        guard case .useAndRefresh(let used) = machine.tokenRequested(by: 2, now: Self.at(4)) else {
            Issue.record("a token past refreshAt must start a refresh")
            return
        }
        #expect(used == first)
        guard case .use(let again) = machine.tokenRequested(by: 3, now: Self.at(4.2)) else {
            Issue.record("while the refresh runs, the usable token is used: no second refresh")
            return
        }
        #expect(again == first)
        let second = Self.token("b", at: 4)
        let resumedAhead = machine.refreshSucceeded(second)
        #expect(resumedAhead.isEmpty)
        guard case .use(let next) = machine.tokenRequested(by: 4, now: Self.at(4.3)) else {
            Issue.record("the new token must be used")
            return
        }
        #expect(next == second)
    }

    /// Past usableUntil, with the refresh still running, requests wait for it.
    @Test func aTokenPastItsUseWaitsForTheRefresh() {
        var machine = Machine()
        _ = machine.tokenRequested(by: 1, now: Self.at(0))
        _ = machine.refreshSucceeded(Self.token("a", at: 0))
        _ = machine.tokenRequested(by: 2, now: Self.at(4))
        guard case .wait = machine.tokenRequested(by: 3, now: Self.at(4.6)) else {
            Issue.record("past usableUntil a request must wait")
            return
        }
        let resumedLate = machine.refreshSucceeded(Self.token("b", at: 4))
        #expect(resumedLate == [3])
    }

    /// An idle credential whose token ran out: the next request refreshes and waits.
    @Test func anExpiredTokenIsRefreshedBeforeUse() {
        var machine = Machine()
        _ = machine.tokenRequested(by: 1, now: Self.at(0))
        _ = machine.refreshSucceeded(Self.token("a", at: 0))
        guard case .refreshAndWait = machine.tokenRequested(by: 2, now: Self.at(60)) else {
            Issue.record("an expired token must not be used")
            return
        }
    }

    /// A failed refresh fails its waiters; until retryAt others fail at once, after it the
    /// next request tries again.
    @Test func aFailedRefreshIsNotRetriedByEveryRequest() {
        var machine = Machine()
        _ = machine.tokenRequested(by: 1, now: Self.at(0))
        _ = machine.tokenRequested(by: 2, now: Self.at(0))
        let down = Failure(reason: "down")
        let failedWaiters = machine.refreshFailed(down, retryAt: Self.at(2))
        #expect(failedWaiters == [1, 2])
        guard case .fail(let failure) = machine.tokenRequested(by: 3, now: Self.at(1)) else {
            Issue.record("before retryAt a request must fail at once")
            return
        }
        #expect(failure == down)
        guard case .refreshAndWait = machine.tokenRequested(by: 4, now: Self.at(2)) else {
            Issue.record("at retryAt a request must refresh")
            return
        }
    }

    /// A failed refresh ahead leaves the previous token in use while it is usable.
    @Test func aFailedRefreshAheadKeepsTheUsableToken() {
        var machine = Machine()
        _ = machine.tokenRequested(by: 1, now: Self.at(0))
        let first = Self.token("a", at: 0)
        _ = machine.refreshSucceeded(first)
        _ = machine.tokenRequested(by: 2, now: Self.at(4))
        let failedAhead = machine.refreshFailed(Failure(reason: "slow"), retryAt: Self.at(10))
        #expect(failedAhead.isEmpty)
        guard case .use(let used) = machine.tokenRequested(by: 3, now: Self.at(4.2)) else {
            Issue.record("the usable token must still be used")
            return
        }
        #expect(used == first)
        guard case .fail = machine.tokenRequested(by: 4, now: Self.at(4.6)) else {
            Issue.record("past usableUntil, before retryAt, the failure is the answer")
            return
        }
    }

    /// The server refused the token: the next request refreshes instead of reusing it.
    @Test func aRejectedTokenIsNotUsedAgain() {
        var machine = Machine()
        _ = machine.tokenRequested(by: 1, now: Self.at(0))
        let first = Self.token("a", at: 0)
        _ = machine.refreshSucceeded(first)
        machine.tokenRejected(Self.token("other", at: 0))
        guard case .use = machine.tokenRequested(by: 2, now: Self.at(1)) else {
            Issue.record("rejecting another token changes nothing")
            return
        }
        machine.tokenRejected(first)
        guard case .refreshAndWait = machine.tokenRequested(by: 3, now: Self.at(1)) else {
            Issue.record("after its rejection the token must be refreshed")
            return
        }
    }

    @Test func aCancelledWaiterIsNotResumed() {
        var machine = Machine()
        _ = machine.tokenRequested(by: 1, now: Self.at(0))
        _ = machine.tokenRequested(by: 2, now: Self.at(0))
        let wasWaiting = machine.waiterCancelled(1)
        #expect(wasWaiting)
        let wasWaitingAgain = machine.waiterCancelled(1)
        #expect(!wasWaitingAgain)
        let resumedOthers = machine.refreshSucceeded(Self.token("a", at: 0))
        #expect(resumedOthers == [2])
    }
}
