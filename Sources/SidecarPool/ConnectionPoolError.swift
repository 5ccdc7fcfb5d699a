/// Why ``ConnectionPool/withConnection(key:context:label:groups:deadline:requireFresh:isolation:_:)``
/// lent no connection, when the pool itself decided it. The pool knows no wire protocol and
/// no user: whoever uses it words these (the mail engine maps them to `SidecarError`). A
/// failure of the factory's connection made for the request is thrown as the factory threw
/// it, and `body`'s errors as `body` threw them.
public struct ConnectionPoolError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// No connection came free within the pool's own wait limit (`maxWait`).
        case busy
        /// The pool's own wait limit passed while the connection being opened for the
        /// request was still being set up, and none of the pool's connections was lent out:
        /// the server is slow, not the pool busy.
        case connectionNotReady
        /// The request's own deadline passed while it waited.
        case deadlineExceeded
        /// The pool is shutting down.
        case shuttingDown
        /// A connection was to be made for a key whose context is gone (a bug).
        case missingContext
    }

    public let code: Code

    public init(_ code: Code) {
        self.code = code
    }

    public var description: String { "ConnectionPoolError.\(code)" }
}
