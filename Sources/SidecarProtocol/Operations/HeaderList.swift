/// Custom headers as sent on the wire: an array of `{"name", "value"}` objects or a JSON
/// object of name to value, in the order written either way. Entry `i` (0-based) is named
/// `params.headers[i]` in errors, whichever form it came in.
public struct HeaderList: Sendable, Equatable, Codable {
    public struct Field: Sendable, Equatable, Codable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public var fields: [Field]

    public init(_ fields: [Field]) {
        self.fields = fields
    }

    public init(from decoder: any Decoder) throws {
        if let fields = try? decoder.singleValueContainer().decode([Field].self) {
            self.fields = fields
            return
        }
        let object = try decoder.singleValueContainer().decode([String: String].self)
        self.fields = object.keys.sorted().map { Field(name: $0, value: object[$0]!) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(fields)
    }
}
