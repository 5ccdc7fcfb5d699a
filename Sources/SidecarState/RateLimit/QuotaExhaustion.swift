import FoundationEssentials

/// A credential whose provider said its daily quota is spent: sends are refused locally,
/// without a connection, until `until`.
public struct QuotaExhaustion: Sendable, Hashable {
    public var until: Date
    /// The provider's reply, for the refusal's message.
    public var reason: String

    public init(until: Date, reason: String) {
        self.until = until
        self.reason = reason
    }
}
