/// An entry of an address list that ``Mailbox/parseList(_:)`` could not read. Whoever
/// parses words it and names the field: the composer as a ``CompositionError``, the mail
/// engine's loop guard as a wire error.
public struct AddressListError: Error, Sendable, Hashable {
    /// The entry as written (not truncated).
    public let entry: String
    /// Why, as a sentence fragment ("the domain is missing").
    public let reason: String

    public init(entry: String, reason: String) {
        self.entry = entry
        self.reason = reason
    }
}
