import SidecarCore

/// The outcome of one message: sent, not sent, or unknown.
public enum SMTPSendResult: Sendable, Hashable {
    /// The server accepted the message (250 after the final dot) for at least one recipient.
    case sent(SMTPDelivery)
    /// The message was not delivered: nothing, or not the whole message, went out, or the
    /// server refused it. `failure.error.retryable` says whether trying later may work.
    case notSent(SMTPSendFailure)
    /// The final dot went out but no final reply came (connection lost or timed out): the
    /// message may have been delivered. `failure.error.code` is `outcome_unknown`.
    case mayHaveBeenSent(SMTPSendFailure)

    /// The per-recipient answers known so far.
    public var recipients: [SMTPRecipientResult] {
        switch self {
        case .sent(let delivery): delivery.recipients
        case .notSent(let failure), .mayHaveBeenSent(let failure): failure.recipients
        }
    }

    /// The error, unless sent.
    public var error: SidecarError? {
        switch self {
        case .sent: nil
        case .notSent(let failure), .mayHaveBeenSent(let failure): failure.error
        }
    }
}

/// A message the server accepted.
public struct SMTPDelivery: Sendable, Hashable {
    /// The reply after the final dot; its text usually holds the queue id.
    public var reply: SMTPReply
    /// Every recipient's RCPT reply, in envelope order; rejected ones did not get the message.
    public var recipients: [SMTPRecipientResult]

    public init(reply: SMTPReply, recipients: [SMTPRecipientResult]) {
        self.reply = reply
        self.recipients = recipients
    }

    public var acceptedRecipients: [SMTPRecipientResult] { recipients.filter(\.accepted) }
    public var rejectedRecipients: [SMTPRecipientResult] { recipients.filter { !$0.accepted } }
}

/// Why a message was not sent (or may not have been), and where.
public struct SMTPSendFailure: Sendable, Hashable {
    public var error: SidecarError
    public var phase: SMTPPhase
    /// RCPT replies received before the failure, in envelope order.
    public var recipients: [SMTPRecipientResult]
    /// The server closed the session (421) in answer to MAIL, a RCPT, DATA or BDAT: it
    /// took none of the message, for any recipient. A server at its per-session error limit
    /// does this after refused recipients; those are the refused ones in ``recipients``.
    public var closedBeforeMessage: Bool

    public init(
        error: SidecarError, phase: SMTPPhase, recipients: [SMTPRecipientResult] = [], closedBeforeMessage: Bool = false
    ) {
        self.error = error
        self.phase = phase
        self.recipients = recipients
        self.closedBeforeMessage = closedBeforeMessage
    }
}

/// A failure of a connection-level operation (connect, reset, quit), with its phase.
public struct SMTPFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var error: SidecarError
    public var phase: SMTPPhase

    public init(error: SidecarError, phase: SMTPPhase) {
        self.error = error
        self.phase = phase
    }

    public var description: String { "\(phase): \(error)" }
}
