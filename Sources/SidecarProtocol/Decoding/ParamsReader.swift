import SidecarCore

/// Typed, bounded reads of one JSON object of a request, every failure an
/// `invalid_params` ``SidecarError`` naming the member by its JSON path
/// (`params.attachments[1].filename`).
///
/// An absent or `null` member of an optional field is `nil`; unknown members are ignored.
struct ParamsReader {
    let members: [(key: String, value: JSONNode)]
    /// This object's path: `params`, `params.credential`, `params.headers[2]`.
    let path: String

    init(members: [(key: String, value: JSONNode)], path: String) {
        self.members = members
        self.path = path
    }

    init(_ node: JSONNode, path: String) throws(SidecarError) {
        guard case .object(let members) = node else {
            throw Self.invalid(path, "must be an object, not \(node.kind)")
        }
        self.members = members
        self.path = path
    }

    func path(_ key: String) -> String { "\(path).\(key)" }

    /// The member's value, `nil` when absent or `null`.
    func node(_ key: String) -> JSONNode? {
        for member in members where member.key == key {
            if case .null = member.value { return nil }
            return member.value
        }
        return nil
    }

    func has(_ key: String) -> Bool { node(key) != nil }

    func string(_ key: String, length: ClosedRange<Int>? = nil) throws(SidecarError) -> String? {
        guard let node = node(key) else { return nil }
        return try Self.string(node, path: path(key), length: length)
    }

    func requiredString(_ key: String, length: ClosedRange<Int>? = nil) throws(SidecarError) -> String {
        guard let value = try string(key, length: length) else { throw missing(key) }
        return value
    }

    func int(_ key: String, in range: ClosedRange<Int>) throws(SidecarError) -> Int? {
        guard let node = node(key) else { return nil }
        return try Self.int(node, path: path(key), in: range)
    }

    func bool(_ key: String) throws(SidecarError) -> Bool? {
        guard let node = node(key) else { return nil }
        guard case .bool(let value) = node else {
            throw Self.invalid(path(key), "must be true or false, not \(node.kind)")
        }
        return value
    }

    func value<Value: RawRepresentable & CaseIterable>(_ key: String, as type: Value.Type) throws(SidecarError) -> Value?
    where Value.RawValue == String {
        guard let node = node(key) else { return nil }
        return try Self.value(node, path: path(key), as: type)
    }

    func object(_ key: String) throws(SidecarError) -> ParamsReader? {
        guard let node = node(key) else { return nil }
        return try ParamsReader(node, path: path(key))
    }

    /// An array member whose every element (never `null`) is read with `element`, given
    /// the element's path.
    func array<Element>(
        _ key: String, maxCount: Int? = nil, _ element: (JSONNode, String) throws(SidecarError) -> Element
    ) throws(SidecarError) -> [Element]? {
        guard let node = node(key) else { return nil }
        guard case .array(let nodes) = node else {
            throw Self.invalid(path(key), "must be an array, not \(node.kind)")
        }
        if let maxCount, nodes.count > maxCount {
            throw Self.invalid(path(key), "may hold at most \(maxCount) entries, not \(nodes.count)")
        }
        var elements: [Element] = []
        elements.reserveCapacity(nodes.count)
        for (index, node) in nodes.enumerated() {
            elements.append(try element(node, "\(path(key))[\(index)]"))
        }
        return elements
    }

    func missing(_ key: String) -> SidecarError {
        SidecarError(
            code: .invalidParams, message: "The required field \"\(path(key))\" is missing.", field: path(key))
    }

    // MARK: Values

    static func string(_ node: JSONNode, path: String, length: ClosedRange<Int>? = nil) throws(SidecarError) -> String {
        guard case .string(let value) = node else { throw invalid(path, "must be a string, not \(node.kind)") }
        if let length {
            // Code points, as JSON Schema's minLength/maxLength count.
            let count = value.unicodeScalars.count
            guard length.contains(count) else {
                let bounds = length.lowerBound == length.upperBound
                    ? "exactly \(length.lowerBound)" : "\(length.lowerBound) to \(length.upperBound)"
                throw invalid(path, "must have \(bounds) characters (Unicode code points), not \(count)")
            }
        }
        return value
    }

    static func int(_ node: JSONNode, path: String, in range: ClosedRange<Int>) throws(SidecarError) -> Int {
        switch node {
        case .integer(let value):
            try check(value, path: path, in: range)
            return value
        case .number:
            throw invalid(
                path, "must be an integer from \(range.lowerBound) to \(range.upperBound), written without a fraction or exponent")
        case .object, .array, .string, .bool, .null:
            throw invalid(path, "must be an integer, not \(node.kind)")
        }
    }

    /// Refuses an integer outside `range`.
    static func check(_ value: Int, path: String, in range: ClosedRange<Int>) throws(SidecarError) {
        guard range.contains(value) else {
            throw invalid(path, "must be an integer from \(range.lowerBound) to \(range.upperBound), not \(value)")
        }
    }

    static func value<Value: RawRepresentable & CaseIterable>(
        _ node: JSONNode, path: String, as type: Value.Type
    ) throws(SidecarError) -> Value where Value.RawValue == String {
        let known = Value.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        guard case .string(let raw) = node else { throw invalid(path, "must be one of \(known), not \(node.kind)") }
        guard let value = Value(rawValue: raw) else {
            throw invalid(path, "must be one of \(known), not \"\(raw.prefix(64))\"")
        }
        return value
    }

    static func invalid(_ path: String, _ problem: String) -> SidecarError {
        SidecarError(code: .invalidParams, message: "The field \"\(path)\" \(problem).", field: path)
    }
}
