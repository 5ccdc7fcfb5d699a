/// Makes and closes the connections a ``ConnectionPool`` lends. The pool knows nothing
/// else about them; for SMTP, making one means connect, TLS, EHLO and AUTH, and a graceful
/// close means QUIT.
public protocol PoolConnectionFactory<Key, Connection>: Sendable {
    associatedtype Key: Hashable & Sendable
    associatedtype Connection: Sendable
    /// What making a connection for a key needs beyond the key (for SMTP the configuration,
    /// which holds the secret the key only fingerprints). Each lease brings its key's; the
    /// pool keeps the latest while the key has a pool and forgets it with the pool.
    associatedtype Context: Sendable

    /// A new connection for `key`, ready to serve a lease. A thrown error fails the
    /// longest-waiting request for that key with that same error.
    func makeConnection(for key: Key, context: Context) async throws -> Connection

    /// Close `connection`. `gracefully` is false when its state is doubtful (the caller
    /// released it with `.discard`): drop it without talking to the peer. Must not throw;
    /// the pool counts the connection as open until this returns.
    func close(_ connection: Connection, gracefully: Bool) async
}
