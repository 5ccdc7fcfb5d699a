import Logging
import NIOCore
import SidecarCore
import SidecarMessage
import SidecarSMTP

/// How a composed message reaches an SMTP server: the seam where connection pooling plugs
/// in. ``DirectTransport`` opens a new connection per message.
///
/// Both operations take an ``SMTPDestination``, which only the SSRF guard's vetting can
/// produce: a transport cannot be asked to connect to an unvetted host.
public protocol MailTransport: Sendable {
    /// Sends `message`. `beforeTransaction`, if given, is started once the connection is
    /// ready (once per connection the send is tried on) and runs while the envelope's
    /// commands go out; the message's content leaves only after it succeeded. If it throws,
    /// no byte of the message is written, the connection is closed, and the send ends
    /// `not_sent` with its error. It has ended by the time this returns.
    func send(
        _ message: ComposedMessage, options: SMTPSendOptions, destination: SMTPDestination, route: TransportRoute,
        deadline: NIODeadline?, beforeTransaction: BeforeTransaction?, logger: Logger
    ) async -> TransportOutcome

    func verify(destination: SMTPDestination, deadline: NIODeadline?, logger: Logger) async throws(SMTPFailure)
        -> SMTPCapabilities
}

/// What a send does before its message may leave, once its connection is in hand (the
/// dedup record's "may have been sent" mark): while the SMTP envelope goes out, or before.
/// See ``MailTransport/send(_:options:configuration:route:deadline:beforeTransaction:logger:)``.
public typealias BeforeTransaction = @Sendable () async throws(SidecarError) -> Void

/// Whose send this is: pools never share a connection across workspaces or credentials.
public struct TransportRoute: Sendable, Hashable {
    public var workspaceID: String
    /// The platform's credential id, or "" for an inline credential without one.
    public var credentialID: String

    public init(workspaceID: String, credentialID: String) {
        self.workspaceID = workspaceID
        self.credentialID = credentialID
    }
}

/// A send's result and how long its parts took.
public struct TransportOutcome: Sendable {
    public var result: SMTPSendResult
    /// Connecting, TLS, EHLO and AUTH (zero for a warm pooled connection).
    public var connect: Duration
    /// MAIL FROM through the final reply.
    public var transaction: Duration
    /// Whether the message went over a connection that had sent before.
    public var reusedConnection: Bool
    /// Whether a stale pooled connection was replaced by a fresh one for this send.
    public var retried: Bool

    public init(
        result: SMTPSendResult, connect: Duration, transaction: Duration, reusedConnection: Bool = false,
        retried: Bool = false
    ) {
        self.result = result
        self.connect = connect
        self.transaction = transaction
        self.reusedConnection = reusedConnection
        self.retried = retried
    }
}
