/// A parsed JSON value as ``JSONParser`` produces it.
///
/// Numbers keep only what the protocol reads: an integer written plainly (`587`, `-3`)
/// that fits 64 bits is ``integer(_:)``. Any other number (`1.5`, `1e3`, `587.0`,
/// `99999999999999999999`) is ``number``: where the protocol expects an integer it is
/// `invalid_params`.
enum JSONNode: Sendable {
    case object([(key: String, value: JSONNode)])
    case array([JSONNode])
    case string(String)
    case integer(Int)
    case number
    case bool(Bool)
    case null

    /// What the value is, for error messages ("a string", "an array"…).
    var kind: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .integer: "an integer"
        case .number: "a number that is not a 64-bit integer"
        case .bool: "a boolean"
        case .null: "null"
        }
    }
}
