extension PoolStateMachine {
    /// Why the pool could not give a request a connection.
    enum Failure: Hashable, Sendable {
        /// No connection came free within the pool's own wait limit, `maxWait` (`pool_busy`).
        case busy
        /// The pool's own wait limit passed while the connection being opened for the
        /// request was still being set up (connect, TLS, greeting, EHLO, AUTH), and none of
        /// the pool's connections was lent out: the server is slow, not the pool busy
        /// (`timeout`).
        case connectionNotReady
        /// The request's own deadline passed while it waited (`request_timeout`).
        case deadlineExceeded
        /// The pool is shutting down (`shutting_down`).
        case shuttingDown
        /// The request's task was cancelled.
        case cancelled
        /// The connection created for this request failed; the shell has the error.
        case connectionFailed
    }

    struct CreateConnection: Hashable, Sendable {
        var id: PoolConnectionID
        var key: Key
    }

    struct CloseConnection: Sendable {
        var id: PoolConnectionID
        var connection: Connection
        /// True: say goodbye (SMTP: QUIT). False: the state is doubtful, just drop it.
        var gracefully: Bool
    }

    struct Grant: Sendable {
        var request: PoolRequestID
        var lease: Lease<Connection>
    }

    struct Rejection: Hashable, Sendable {
        var request: PoolRequestID
        var failure: Failure
    }

    /// Everything an event asks the shell to do. The shell runs the parts in any order,
    /// outside its lock, and reports back with `connectionCreated`/`connectionCreationFailed`,
    /// `connectionClosed` and `timerFired`.
    struct Actions: Sendable {
        /// Start making these connections with the factory.
        var create: [CreateConnection] = []
        /// Close these connections with the factory, then report `connectionClosed`.
        var close: [CloseConnection] = []
        /// Give up making these connections (their requests have gone): cancel the factory's
        /// work, which then reports `connectionCreationFailed` (or `connectionCreated`, if it
        /// won the race; the connection is then closed).
        var cancelCreation: [PoolConnectionID] = []
        /// Resume these requests with their leases.
        var grant: [Grant] = []
        /// Fail these requests.
        var reject: [Rejection] = []
        /// Call `timerFired` at this instant (earlier timers stay valid; a late one is harmless).
        var scheduleTimer: Instant?
        /// Shutdown has finished: nothing is open, nothing waits. Reported once.
        var shutdownComplete = false
        /// These keys' pools are gone (nothing open, nothing waiting): forget what the shell
        /// keeps per key.
        var retired: [Key] = []
    }
}

extension PoolStateMachine.CloseConnection: Equatable where Connection: Equatable {}
extension PoolStateMachine.Grant: Equatable where Connection: Equatable {}
extension PoolStateMachine.Actions: Equatable where Connection: Equatable {}
