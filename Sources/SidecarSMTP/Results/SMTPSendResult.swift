import SidecarCore

/// The outcome of one message: sent, not sent, or unknown.
package enum SMTPSendResult: Sendable, Hashable {
    /// The server accepted the message (250 after the final dot) for at least one recipient.
    case sent(SMTPDelivery)
    /// The message was not delivered: nothing, or not the whole message, went out, or the
    /// server refused it. `failure.error.retryable` says whether trying later may work.
    case notSent(SMTPSendFailure)
    /// The final dot went out but no final reply came (connection lost or timed out): the
    /// message may have been delivered. `failure.error.code` is `outcome_unknown`.
    case mayHaveBeenSent(SMTPSendFailure)

    /// The per-recipient answers known so far.
    package var recipients: [SMTPRecipientResult] {
        switch self {
        case .sent(let delivery): delivery.recipients
        case .notSent(let failure), .mayHaveBeenSent(let failure): failure.recipients
        }
    }

    /// The error, unless sent.
    package var error: SidecarError? {
        switch self {
        case .sent: nil
        case .notSent(let failure), .mayHaveBeenSent(let failure): failure.error
        }
    }
}

/// A message the server accepted.
package struct SMTPDelivery: Sendable, Hashable {
    /// The reply after the final dot; its text usually holds the queue id.
    package var reply: SMTPReply
    /// Every recipient's RCPT reply, in envelope order; rejected ones did not get the message.
    package var recipients: [SMTPRecipientResult]

    package init(reply: SMTPReply, recipients: [SMTPRecipientResult]) {
        self.reply = reply
        self.recipients = recipients
    }

    package var acceptedRecipients: [SMTPRecipientResult] { recipients.filter(\.accepted) }
    package var rejectedRecipients: [SMTPRecipientResult] { recipients.filter { !$0.accepted } }
}

/// Why a message was not sent (or may not have been), and where.
package struct SMTPSendFailure: Sendable, Hashable {
    package var error: SidecarError
    package var phase: SMTPPhase
    /// RCPT replies received before the failure, in envelope order.
    package var recipients: [SMTPRecipientResult]
    /// The server closed the session (421) in answer to MAIL, a RCPT, DATA or BDAT: it
    /// took none of the message, for any recipient. A server at its per-session error limit
    /// does this after refused recipients; those are the refused ones in ``recipients``.
    package var closedBeforeMessage: Bool

    package init(
        error: SidecarError, phase: SMTPPhase, recipients: [SMTPRecipientResult] = [], closedBeforeMessage: Bool = false
    ) {
        self.error = error
        self.phase = phase
        self.recipients = recipients
        self.closedBeforeMessage = closedBeforeMessage
    }
}

/// A failure of a connection-level operation (connect, reset, quit), with its phase.
package struct SMTPFailure: Error, Sendable, Hashable, CustomStringConvertible {
    package var error: SidecarError
    package var phase: SMTPPhase

    package init(error: SidecarError, phase: SMTPPhase) {
        self.error = error
        self.phase = phase
    }

    package var description: String { "\(phase): \(error)" }
}
