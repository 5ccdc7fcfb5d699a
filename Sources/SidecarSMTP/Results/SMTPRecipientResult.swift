import SidecarCore

/// The server's answer to one RCPT TO.
public struct SMTPRecipientResult: Sendable, Hashable {
    public var address: String
    public var reply: SMTPReply

    public init(address: String, reply: SMTPReply) {
        self.address = address
        self.reply = reply
    }

    /// 2yz: the server took responsibility for this recipient (once the message is accepted).
    public var accepted: Bool { reply.isPositiveCompletion }
}
