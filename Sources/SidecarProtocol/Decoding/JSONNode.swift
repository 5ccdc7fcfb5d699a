/// A parsed JSON value as ``JSONParser`` produces it for ``FastRequestDecoder``.
///
/// Numbers keep only what the protocol reads: an integer that fits `Int` and is written
/// plainly (`587`, `-3`). Any other number (`1.5`, `1e3`, `99999999999999999999`) is
/// ``unsupportedNumber``: a field that expects an integer then leaves the request to the
/// general decoder, which decides whether it is valid.
enum JSONNode: Sendable {
    case object([(key: String, value: JSONNode)])
    case array([JSONNode])
    case string(String)
    case integer(Int)
    case unsupportedNumber
    case bool(Bool)
    case null
}
