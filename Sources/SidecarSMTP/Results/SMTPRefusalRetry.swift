import SidecarCore

/// Refused recipients never cost the accepted ones their delivery.
///
/// Servers count error replies per session and close it at a limit: chasquid answers the
/// third with `421 4.5.0 Too many errors`, stock Postfix the 21st command after 20 errors,
/// and refused recipients count. A message to two good and three unknown addresses then
/// ends with a 421 before the server took it (``SMTPSendFailure/closedBeforeMessage``),
/// for everyone, and sending it again as it is fails the same way every time.
///
/// This decides what to do after each attempt: send again, on a fresh connection, to the
/// recipients not yet refused (while each attempt refuses new ones, at most
/// ``maximumRetries`` times), or finish with the result, in which recipients refused by
/// earlier attempts are reported as refused, in envelope order. Pure: the caller sends.
public struct SMTPRefusalRetry: Sendable {
    public enum Decision: Sendable, Hashable {
        /// Send again on a fresh connection, to these recipients only.
        case retry(recipients: [String])
        /// The send's result.
        case finish(SMTPSendResult)
    }

    /// The envelope's recipients, in order.
    public let envelope: [String]
    /// The most times a message is sent again. Each time at least one more recipient was
    /// refused, so this bounds connections, not correctness.
    public let maximumRetries: Int
    /// How many times it was sent again so far.
    public private(set) var retries = 0
    /// Recipients refused by attempts that ended in a 421, by address.
    private var refused: [String: SMTPRecipientResult] = [:]

    public init(recipients: [String], maximumRetries: Int = 3) {
        self.envelope = recipients
        self.maximumRetries = maximumRetries
    }

    /// The recipients still to send to: the envelope's, without those refused.
    public var recipients: [String] { envelope.filter { refused[$0] == nil } }

    /// Whether `result` is a session the server closed before taking the message, after it
    /// had refused recipients: what this type sends again.
    public static func closedAfterRefusals(_ result: SMTPSendResult) -> Bool {
        guard case .notSent(let failure) = result, failure.closedBeforeMessage else { return false }
        return failure.recipients.contains { !$0.accepted }
    }

    /// The next step after an attempt that ended with `result`.
    public mutating func next(after result: SMTPSendResult) -> Decision {
        if case .notSent(let failure) = result, failure.closedBeforeMessage, retries < maximumRetries {
            let newlyRefused = failure.recipients.filter { !$0.accepted && refused[$0.address] == nil }
            if !newlyRefused.isEmpty {
                for recipient in newlyRefused { refused[recipient.address] = recipient }
                let remaining = recipients
                if remaining.isEmpty {
                    let all = inEnvelopeOrder(Array(refused.values))
                    return .finish(.notSent(SMTPSendFailure(error: .smtpRecipientsRejected(all), phase: .rcpt, recipients: all)))
                }
                retries += 1
                return .retry(recipients: remaining)
            }
        }
        return .finish(merged(result))
    }

    /// `result` with the recipients refused by earlier attempts added.
    func merged(_ result: SMTPSendResult) -> SMTPSendResult {
        guard !refused.isEmpty else { return result }
        func merge(_ recipients: [SMTPRecipientResult]) -> [SMTPRecipientResult] {
            let answered = Set(recipients.map(\.address))
            return inEnvelopeOrder(recipients + refused.values.filter { !answered.contains($0.address) })
        }
        switch result {
        case .sent(var delivery):
            delivery.recipients = merge(delivery.recipients)
            return .sent(delivery)
        case .notSent(var failure):
            failure.recipients = merge(failure.recipients)
            if failure.error.code == .recipientsRejected {
                failure.error = .smtpRecipientsRejected(failure.recipients.filter { !$0.accepted })
            }
            return .notSent(failure)
        case .mayHaveBeenSent(var failure):
            failure.recipients = merge(failure.recipients)
            return .mayHaveBeenSent(failure)
        }
    }

    private func inEnvelopeOrder(_ recipients: [SMTPRecipientResult]) -> [SMTPRecipientResult] {
        var position: [String: Int] = [:]
        for (index, address) in envelope.enumerated() where position[address] == nil { position[address] = index }
        return recipients.sorted { (position[$0.address] ?? .max) < (position[$1.address] ?? .max) }
    }
}
