import SidecarCore

/// `send` result (also the partial `result` of a failed send's error response).
public struct SendResult: Sendable, Equatable, Codable {
    /// What happened to the message.
    public enum Outcome: String, Sendable, Codable, CaseIterable {
        /// The server accepted it (final 2xx).
        case sent
        /// Nothing was delivered.
        case notSent = "not_sent"
        /// It went out but no final reply came: it may have been delivered.
        case outcomeUnknown = "outcome_unknown"
    }

    /// One recipient's RCPT TO answer.
    public struct Recipient: Sendable, Equatable, Codable {
        public var address: String
        public var accepted: Bool
        public var smtp: SMTPReply?

        public init(address: String, accepted: Bool, smtp: SMTPReply?) {
            self.address = address
            self.accepted = accepted
            self.smtp = smtp
        }
    }

    public var outcome: Outcome
    /// The message's Message-ID header, with angle brackets; absent if it was never composed.
    public var messageID: String?
    /// The server's final reply to the message (usually holds its queue id), or the reply
    /// that ended the attempt.
    public var smtp: SMTPReply?
    /// Where a failed attempt stopped: connect, greeting, tls, ehlo, auth, mail, rcpt, data.
    public var phase: String?
    public var recipients: [Recipient]
    /// Whether this is an earlier result returned by duplicate suppression.
    public var duplicate: Bool
    /// With `on_error: continue`, the failure.
    public var error: SidecarError?

    public init(
        outcome: Outcome, messageID: String?, smtp: SMTPReply? = nil, phase: String? = nil, recipients: [Recipient] = [],
        duplicate: Bool = false, error: SidecarError? = nil
    ) {
        self.outcome = outcome
        self.messageID = messageID
        self.smtp = smtp
        self.phase = phase
        self.recipients = recipients
        self.duplicate = duplicate
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case outcome, smtp, phase, recipients, duplicate, error
        case messageID = "message_id"
    }
}
