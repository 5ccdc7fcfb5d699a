/// Typed reads of a ``JSONNode`` object's members for ``FastRequestDecoder``, with the
/// rules of the synthesized `Decodable` conformances: an absent or `null` member of an
/// optional field is `nil`, unknown members are ignored. Anything else unexpected (a
/// wrong type, a missing required member, an unknown enum value) gives up with
/// ``JSONParser/Unsupported`` so that `JSONDecoder` produces the error.
struct JSONObjectReader {
    typealias Unsupported = JSONParser.Unsupported

    let members: [(key: String, value: JSONNode)]

    init(_ node: JSONNode) throws(Unsupported) {
        guard case .object(let members) = node else { throw Unsupported() }
        self.members = members
    }

    /// The member's value, `nil` when absent or `null`.
    func node(_ key: String) -> JSONNode? {
        for member in members where member.key == key {
            if case .null = member.value { return nil }
            return member.value
        }
        return nil
    }

    func string(_ key: String) throws(Unsupported) -> String? {
        guard let node = node(key) else { return nil }
        return try Self.string(node)
    }

    func requiredString(_ key: String) throws(Unsupported) -> String {
        guard let value = try string(key) else { throw Unsupported() }
        return value
    }

    func int(_ key: String) throws(Unsupported) -> Int? {
        guard let node = node(key) else { return nil }
        return try Self.int(node)
    }

    func bool(_ key: String) throws(Unsupported) -> Bool? {
        guard let node = node(key) else { return nil }
        guard case .bool(let value) = node else { throw Unsupported() }
        return value
    }

    func value<Value: RawRepresentable>(_ key: String, as type: Value.Type) throws(Unsupported) -> Value?
    where Value.RawValue == String {
        guard let node = node(key) else { return nil }
        return try Self.value(node, as: type)
    }

    func object(_ key: String) throws(Unsupported) -> JSONObjectReader? {
        guard let node = node(key) else { return nil }
        return try JSONObjectReader(node)
    }

    /// An array member whose every element is read with `element` (an element may not be `null`).
    func array<Element>(
        _ key: String, _ element: (JSONNode) throws(Unsupported) -> Element
    ) throws(Unsupported) -> [Element]? {
        guard let node = node(key) else { return nil }
        guard case .array(let nodes) = node else { throw Unsupported() }
        var elements: [Element] = []
        elements.reserveCapacity(nodes.count)
        for node in nodes {
            elements.append(try element(node))
        }
        return elements
    }

    static func string(_ node: JSONNode) throws(Unsupported) -> String {
        guard case .string(let value) = node else { throw Unsupported() }
        return value
    }

    static func int(_ node: JSONNode) throws(Unsupported) -> Int {
        guard case .integer(let value) = node else { throw Unsupported() }
        return value
    }

    static func value<Value: RawRepresentable>(_ node: JSONNode, as type: Value.Type) throws(Unsupported) -> Value
    where Value.RawValue == String {
        guard case .string(let raw) = node, let value = Value(rawValue: raw) else { throw Unsupported() }
        return value
    }
}
