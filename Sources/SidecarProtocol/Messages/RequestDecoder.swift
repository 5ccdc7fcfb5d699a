import FoundationEssentials
import NIOCore
import SidecarCore

/// Turns a frame payload into a ``Request`` or a ``RequestDecodingFailure`` carrying the
/// documented error code.
///
/// One decoder for untrusted input, and no fallback: ``JSONParser`` (with its nesting
/// limit) parses the payload, and every value is checked against the schemas' constraints
/// as the request is built (``ParamsDecoder``). Whatever it refuses is answered, never
/// handed to another parser.
///
/// Precedence of failures: `invalid_json` → `not_an_object` → `missing_id` →
/// `unknown_operation` → `invalid_params`.
public struct RequestDecoder: Sendable {
    public init() {}

    public func decode(_ payload: ByteBuffer) -> Result<Request, RequestDecodingFailure> {
        payload.withUnsafeReadableBytes { decode($0) }
    }

    public func decode(_ payload: Data) -> Result<Request, RequestDecodingFailure> {
        payload.withUnsafeBytes { decode($0) }
    }

    public func decode(_ bytes: UnsafeRawBufferPointer) -> Result<Request, RequestDecodingFailure> {
        // JSON parsers tend to accept invalid UTF-8 inside strings; the protocol does not.
        guard Self.isValidUTF8(bytes) else {
            return .failure(.init(id: nil, error: Self.invalidJSON))
        }
        let node: JSONNode
        do {
            node = try JSONParser.parse(bytes)
        } catch {
            return .failure(.init(id: nil, error: SidecarError(
                code: .invalidJSON, message: "The frame's payload is not valid JSON: \(error.message) (at byte \(error.offset)).")))
        }
        guard case .object(let members) = node else {
            return .failure(.init(id: nil, error: Self.notAnObject))
        }
        let envelope = ParamsReader(members: members, path: "")
        let id: RequestID
        switch Self.id(envelope.node("id")) {
        case .success(let value): id = value
        case .failure(let error): return .failure(.init(id: nil, error: error))
        }
        do throws(SidecarError) {
            return .success(Request(id: id, operation: try Self.operation(envelope)))
        } catch {
            return .failure(.init(id: id, error: error))
        }
    }

    private static func id(_ node: JSONNode?) -> Result<RequestID, SidecarError> {
        switch node {
        case nil:
            return .failure(missingID)
        case .string(let value) where RequestBounds.idLength.contains(value.unicodeScalars.count):
            return .success(.string(value))
        case .integer(let value):
            return .success(.integer(Int64(value)))
        case .string, .number, .object, .array, .bool, .null:
            return .failure(SidecarError(
                code: .missingID,
                message: "The request \"id\" must be a string of \(RequestBounds.idLength.lowerBound) to "
                    + "\(RequestBounds.idLength.upperBound) characters (Unicode code points) or a 64-bit integer.",
                field: "id"))
        }
    }

    private static func operation(_ envelope: ParamsReader) throws(SidecarError) -> Operation {
        guard case .string(let opName)? = envelope.node("op") else {
            throw SidecarError(
                code: .unknownOperation, message: "The request has no \"op\" string naming its operation.", field: "op")
        }
        guard let name = OperationName(rawValue: opName) else {
            let known = OperationName.allCases.map(\.rawValue).joined(separator: ", ")
            throw SidecarError(
                code: .unknownOperation,
                message: "Unknown operation \"\(opName.prefix(64))\". Known operations: \(known).", field: "op")
        }
        let params = envelope.node("params")
        switch name {
        case .hello:
            return .hello(try params.map(ParamsDecoder.hello) ?? HelloParams())
        case .ping:
            return .ping(try params.map(ParamsDecoder.ping) ?? PingParams())
        case .stats:
            if let params { _ = try ParamsReader(params, path: "params") }
            return .stats
        case .send:
            guard let params else { throw missingParams(opName) }
            return .send(try ParamsDecoder.send(params))
        case .verify:
            guard let params else { throw missingParams(opName) }
            return .verify(try ParamsDecoder.verify(params))
        case .metrics:
            if let params { _ = try ParamsReader(params, path: "params") }
            return .metrics
        case .credentialStatus:
            return .credentialStatus(try params.map(ParamsDecoder.credentialStatus) ?? CredentialStatusParams())
        }
    }

    private static func missingParams(_ opName: String) -> SidecarError {
        SidecarError(code: .invalidParams, message: "The \"\(opName)\" operation needs a \"params\" object.", field: "params")
    }

    static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // ASCII runs eight bytes at a time; the scalar decoder only from the first non-ASCII byte.
        var index = 0
        while index + 8 <= bytes.count {
            if bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { break }
            index += 8
        }
        var iterator = UnsafeRawBufferPointer(rebasing: bytes[index...]).makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    static let invalidJSON = SidecarError(
        code: .invalidJSON, message: "The frame's payload is not valid UTF-8 JSON.")
    static let notAnObject = SidecarError(
        code: .notAnObject, message: "The frame's payload must be a JSON object.")
    static let missingID = SidecarError(
        code: .missingID, message: "The request has no \"id\". Give every request a string or integer id.",
        field: "id")
}
