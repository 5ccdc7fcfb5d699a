/// A recipient field as sent on the wire: one string (which may hold a comma-separated
/// RFC 5322 address list) or an array of such strings. Normalised to an array.
public struct AddressList: Sendable, Equatable, Codable, ExpressibleByArrayLiteral {
    public var entries: [String]
    /// Whether the wire value was an array, so that an error names an entry by its index
    /// (`params.to[1]`) rather than the whole field (`params.to`).
    public var isArray: Bool

    public init(_ entries: [String], isArray: Bool = true) {
        self.entries = entries
        self.isArray = isArray
    }

    public init(arrayLiteral elements: String...) {
        self.entries = elements
        self.isArray = true
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let single = try? container.decode(String.self) {
            entries = single.isEmpty ? [] : [single]
            isArray = false
        } else {
            entries = try container.decode([String].self)
            isArray = true
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(entries)
    }
}
