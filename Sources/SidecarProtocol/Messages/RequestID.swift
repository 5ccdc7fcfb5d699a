/// The client-chosen id of a request, echoed in its response: a string of 1 to 128
/// Unicode code points, or a 64-bit integer. It is echoed back in the form it was sent.
public enum RequestID: Hashable, Sendable, Codable, CustomStringConvertible {
    case string(String)
    case integer(Int64)

    public static let maxStringLength = RequestBounds.idLength.upperBound

    public var description: String {
        switch self {
        case .string(let value): value
        case .integer(let value): String(value)
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(String.self) {
            guard (1...Self.maxStringLength).contains(value.unicodeScalars.count) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "id must be 1 to \(Self.maxStringLength) characters")
            }
            self = .string(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "id must be a string or an integer")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        }
    }
}
