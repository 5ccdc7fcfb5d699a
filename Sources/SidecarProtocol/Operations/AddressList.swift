/// A recipient field as sent on the wire: one string (which may hold a comma-separated
/// RFC 5322 address list) or an array of such strings. Normalised to an array.
public struct AddressList: Sendable, Equatable, Codable, ExpressibleByArrayLiteral {
    public var entries: [String]

    public init(_ entries: [String]) {
        self.entries = entries
    }

    public init(arrayLiteral elements: String...) {
        self.entries = elements
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let single = try? container.decode(String.self) {
            entries = single.isEmpty ? [] : [single]
        } else {
            entries = try container.decode([String].self)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(entries)
    }
}
