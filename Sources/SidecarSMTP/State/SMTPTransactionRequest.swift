/// What the state machine needs to know of a message to run its transaction.
struct SMTPTransactionRequest: Sendable, Hashable {
    var reversePath: String
    var recipients: [String]
    /// The message size before dot-stuffing, when known (for SIZE=).
    var size: Int?
    var requiresSMTPUTF8: Bool
    var requires8BitMIME: Bool
    var dsn: SMTPDSNOptions?

    init(
        reversePath: String,
        recipients: [String],
        size: Int? = nil,
        requiresSMTPUTF8: Bool = false,
        requires8BitMIME: Bool = false,
        dsn: SMTPDSNOptions? = nil
    ) {
        self.reversePath = reversePath
        self.recipients = recipients
        self.size = size
        self.requiresSMTPUTF8 = requiresSMTPUTF8
        self.requires8BitMIME = requires8BitMIME
        self.dsn = dsn
    }
}
