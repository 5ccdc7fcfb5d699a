/// A stable, machine-readable error code. Codes are part of the wire protocol:
/// every code has an entry in `proto-spec/errors.md` and in the `code` enum of
/// `proto-spec/schema/error.schema.json`, and a test checks both against ``ErrorCode/registry``.
///
/// The set is extensible: each area declares its codes as static members in an
/// `ErrorCode+Area.swift` file and lists them in that area's array, which
/// ``registry`` concatenates.
public struct ErrorCode: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        self.rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

extension ErrorCode {
    /// Every code the sidecar can return, in the order the spec documents them.
    public static var registry: [ErrorCode] {
        protocolCodes + messageCodes + transportCodes + policyCodes
    }
}
