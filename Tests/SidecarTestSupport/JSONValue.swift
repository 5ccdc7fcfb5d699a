import Foundation

/// Any JSON value, for comparing responses with expectations.
public enum JSONValue: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public static func parse(_ data: Data) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: data)
    }

    public subscript(key: String) -> JSONValue? {
        guard case .object(let object) = self else { return nil }
        return object[key]
    }

    public var string: String? {
        guard case .string(let value) = self else { return nil }
        return value
    }

    public var number: Double? {
        guard case .number(let value) = self else { return nil }
        return value
    }

    /// `error.code` of a response.
    public var errorCode: String? { self["error"]?["code"]?.string }

    /// Whether every member of `expected` is present here with an equal value (recursively
    /// for objects); `null` in `expected` means absent or null.
    public func contains(_ expected: JSONValue) -> Bool {
        switch (self, expected) {
        case (.object(let actual), .object(let wanted)):
            return wanted.allSatisfy { key, value in
                if value == .null { return actual[key] == nil || actual[key] == .null }
                return actual[key]?.contains(value) ?? false
            }
        default:
            return self == expected
        }
    }
}

extension JSONValue {
    /// `true`/`false` of a boolean value.
    public var bool: Bool? {
        guard case .bool(let value) = self else { return nil }
        return value
    }
}
