import SidecarMessage
import SidecarSMTP

/// The daemon-wide settings of the mail operations.
package struct MailSettings: Sendable {
    /// EHLO name when the credential gives none.
    package var clientName: String
    package var timeouts: SMTPTimeouts
    package var messageLimits: MessageLimits

    package init(
        clientName: String = SMTPConfiguration.defaultClientName, timeouts: SMTPTimeouts = .default,
        messageLimits: MessageLimits = MessageLimits()
    ) {
        self.clientName = clientName
        self.timeouts = timeouts
        self.messageLimits = messageLimits
    }
}
