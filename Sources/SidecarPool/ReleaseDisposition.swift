/// What the caller says about a connection when it gives it back.
public enum ReleaseDisposition: Sendable, Hashable {
    /// The connection is healthy and in a clean state: it may serve the next lease.
    case reuse
    /// The connection is healthy, but must not serve another lease (the peer would treat
    /// the next use differently): close it gracefully and never lend it again.
    case retire
    /// The connection's state is doubtful (timeout, protocol error, SMTP 421, a message
    /// that may have been sent): close it without ceremony and never lend it again.
    case discard
}
