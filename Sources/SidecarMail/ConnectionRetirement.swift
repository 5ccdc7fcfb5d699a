import SidecarPool
import SidecarSMTP

/// After a send, whether its pooled SMTP connection may serve another: a pure rule over
/// what the session showed.
///
/// - Unusable (dropped, timed out, a message that may have been sent): discard.
/// - An error reply in the session: retire. Servers count them per session and drop it at a
///   limit (chasquid at 3, stock Postfix at 20), so errors piling up across pooled sends
///   would one day cost an unrelated send its delivery.
/// - An SMTPUTF8 transaction: retire. Exim treats every later message of the session as
///   SMTPUTF8.
/// - The credential's `max_messages_per_connection` transactions: retire.
/// - Without that, an Exim server after ``eximMessagesPerConnection`` transactions: retire.
///   Exim's default `smtp_accept_queue_per_connection` (10) queues every later message of
///   a session instead of delivering it at once, until its next queue run (30 minutes on
///   Debian). A credential's own limit replaces this guess, higher or lower.
/// - Credentials that expired (a stored OAuth credential's access token): retire. The
///   connection authenticated with a token the provider no longer honours.
/// - Otherwise: reuse (the pool's own `pool_max_messages_per_connection` still applies).
struct ConnectionRetirement: Sendable, Hashable {
    var isUsable: Bool
    var errorReplies: Int
    var usedSMTPUTF8: Bool
    var transactionsStarted: Int
    /// The credential's `max_messages_per_connection`.
    var messageLimit: Int?
    /// The first line of the server's 220 greeting.
    var greeting: String
    /// Whether the credentials it authenticated with have expired.
    var credentialsExpired: Bool

    static let eximMessagesPerConnection = 10

    init(
        isUsable: Bool, errorReplies: Int, usedSMTPUTF8: Bool, transactionsStarted: Int, messageLimit: Int? = nil,
        greeting: String, credentialsExpired: Bool = false
    ) {
        self.credentialsExpired = credentialsExpired
        self.isUsable = isUsable
        self.errorReplies = errorReplies
        self.usedSMTPUTF8 = usedSMTPUTF8
        self.transactionsStarted = transactionsStarted
        self.messageLimit = messageLimit
        self.greeting = greeting
    }

    init(_ connection: SMTPConnection) {
        self.init(
            isUsable: connection.isUsable, errorReplies: connection.errorReplies,
            usedSMTPUTF8: connection.usedSMTPUTF8, transactionsStarted: connection.transactionsStarted,
            messageLimit: connection.configuration.maximumMessagesPerSession, greeting: connection.greeting,
            credentialsExpired: connection.configuration.credentialsValidUntil.map { $0 <= .now } ?? false)
    }

    var disposition: ReleaseDisposition {
        guard isUsable else { return .discard }
        if errorReplies > 0 || usedSMTPUTF8 || credentialsExpired { return .retire }
        if let messageLimit {
            return transactionsStarted >= messageLimit ? .retire : .reuse
        }
        // The count first: reading the greeting costs more, and is needed only then.
        if transactionsStarted >= Self.eximMessagesPerConnection && isExim { return .retire }
        return .reuse
    }

    /// Exim names itself in its default greeting ("220 host ESMTP Exim 4.96 …").
    var isExim: Bool {
        greeting.split(separator: " ").contains { $0.lowercased() == "exim" }
    }
}
