import SidecarMessage
import SidecarSMTP

/// The daemon-wide settings of the mail operations.
public struct MailSettings: Sendable {
    /// EHLO name when the credential gives none.
    public var clientName: String
    public var timeouts: SMTPTimeouts
    public var messageLimits: MessageLimits

    public init(
        clientName: String = SMTPConfiguration.defaultClientName, timeouts: SMTPTimeouts = .default,
        messageLimits: MessageLimits = MessageLimits()
    ) {
        self.clientName = clientName
        self.timeouts = timeouts
        self.messageLimits = messageLimits
    }
}
