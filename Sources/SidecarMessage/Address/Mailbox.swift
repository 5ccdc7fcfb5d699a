/// An address with an optional display name: `Jane Doe <jane@example.com>`.
public struct Mailbox: Sendable, Hashable, CustomStringConvertible {
    /// The display name, unquoted and with whitespace runs outside quotes collapsed;
    /// nil when there is none.
    public let displayName: String?
    public let address: EmailAddress

    public init(displayName: String?, address: EmailAddress) {
        let trimmed = displayName?.trimmingWhitespace()
        self.displayName = trimmed?.isEmpty == false ? trimmed : nil
        self.address = address
    }

    public var description: String {
        guard let displayName else { return address.addressSpec }
        return "\(displayName) <\(address.addressSpec)>"
    }
}
