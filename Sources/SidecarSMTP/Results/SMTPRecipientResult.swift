import SidecarCore

/// The server's answer to one RCPT TO.
package struct SMTPRecipientResult: Sendable, Hashable {
    package var address: String
    package var reply: SMTPReply

    package init(address: String, reply: SMTPReply) {
        self.address = address
        self.reply = reply
    }

    /// 2yz: the server took responsibility for this recipient (once the message is accepted).
    package var accepted: Bool { reply.isPositiveCompletion }
}
