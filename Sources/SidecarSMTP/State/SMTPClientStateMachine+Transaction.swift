extension SMTPClientStateMachine {
    /// How the message itself goes to the server.
    enum MessageTransfer: Sendable, Hashable {
        /// `DATA`, the 354, the dot-stuffed message and `.` CRLF (RFC 5321 §4.1.1.4).
        case data
        /// `BDAT <size> LAST` followed by exactly `size` bytes as they are (RFC 3030).
        case bdat(size: Int)
    }

    /// One message's transaction. Replies come in the order the commands went out; with
    /// PIPELINING several are due at once.
    ///
    /// With DATA the steps run `mail`, `rcpt(0)`…, `dataInitiation`, `body` (streaming
    /// only), `dataTermination`. With BDAT the message may be on its way while MAIL and
    /// RCPT replies are still due (it went out in the same flight), so the steps run
    /// `mail`, `rcpt(0)`…, `dataTermination` (BDAT's own reply) and ``messageOut`` says
    /// whether every byte is in the channel yet.
    struct Transaction: Sendable, Hashable {
        enum Step: Sendable, Hashable {
            case mail
            case rcpt(Int)
            /// DATA sent; its 354 is due.
            case dataInitiation
            /// DATA: the message is being streamed.
            case body
            /// The final reply is due: after the final dot, or to `BDAT … LAST`. With DATA,
            /// and with BDAT once ``messageOut``, a lost reply means "may have been sent".
            case dataTermination
            /// A command failed; `remaining` replies are still due (DATA's or BDAT's last),
            /// then RSET.
            case draining(remaining: Int, failure: SMTPSendFailure)
            /// DATA got 354 although no recipient was accepted (RFC 2920 §3.1): a lone dot
            /// was sent to end it.
            case abortingData(failure: SMTPSendFailure)
        }

        var request: SMTPTransactionRequest
        var pipelined: Bool
        var transfer: MessageTransfer
        /// The shell holds the whole message and writes it together with the command it
        /// follows; otherwise it streams it chunk by chunk.
        var messageInHand: Bool
        var rcptParameters: [String]
        var step: Step
        /// Every byte of the message (and with DATA the final dot) is in the channel. With
        /// BDAT this can happen while MAIL and RCPT replies are still due.
        var messageOut = false
        var recipients: [SMTPRecipientResult] = []

        var anyRecipientAccepted: Bool { recipients.contains(where: \.accepted) }

        var isBDAT: Bool {
            if case .bdat = transfer { return true }
            return false
        }

        /// BDAT's bytes are being streamed while replies arrive: the chunk timer governs,
        /// replies do not re-arm it.
        var isStreamingBDAT: Bool { isBDAT && !messageInHand && !messageOut && bdatSent }

        /// The shell is streaming the message chunk by chunk.
        var isStreaming: Bool {
            if isBDAT { return isStreamingBDAT }
            if case .body = step { return true }
            return false
        }

        /// Whether BDAT is on the wire: with pipelining it leads the flight; without, it
        /// goes once the recipients are in (a failed transaction never sends it).
        var bdatSent: Bool {
            guard isBDAT else { return false }
            if pipelined { return true }
            if case .dataTermination = step { return true }
            return false
        }

        /// The failure already decided, while the replies still due are read.
        var decidedFailure: SMTPSendFailure? {
            switch step {
            case .draining(_, let failure), .abortingData(let failure): failure
            case .mail, .rcpt, .dataInitiation, .body, .dataTermination: nil
            }
        }

        /// The server may hold the complete message, so losing the session now leaves the
        /// outcome unknown.
        var serverMayHaveMessage: Bool { decidedFailure == nil && messageOut }
    }
}
