import Logging
import NIOCore
import SidecarMessage
import SidecarSMTP

/// How a composed message reaches an SMTP server: the seam where connection pooling plugs
/// in. ``DirectTransport`` opens a new connection per message.
public protocol MailTransport: Sendable {
    func send(
        _ message: ComposedMessage, options: SMTPSendOptions, configuration: SMTPConfiguration, deadline: NIODeadline?,
        logger: Logger
    ) async -> TransportOutcome

    func verify(configuration: SMTPConfiguration, deadline: NIODeadline?, logger: Logger) async throws(SMTPFailure)
        -> SMTPCapabilities
}

/// A send's result and how long its parts took.
public struct TransportOutcome: Sendable {
    public var result: SMTPSendResult
    /// Connecting, TLS, EHLO and AUTH (zero for a warm pooled connection).
    public var connect: Duration
    /// MAIL FROM through the final reply.
    public var transaction: Duration

    public init(result: SMTPSendResult, connect: Duration, transaction: Duration) {
        self.result = result
        self.connect = connect
        self.transaction = transaction
    }
}
