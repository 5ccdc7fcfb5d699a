import FoundationEssentials
import NIOCore
import SidecarCore

/// Turns a frame payload into a ``Request`` or a ``RequestDecodingFailure`` carrying the
/// documented error code.
///
/// Precedence of failures: `invalid_json` → `not_an_object` → `missing_id` →
/// `unknown_operation` → `invalid_params`.
///
/// Well-formed requests take ``FastRequestDecoder``; everything else, and every error,
/// comes from Foundation's `JSONDecoder` (``decodeWithFoundation(_:)``).
public struct RequestDecoder: Sendable {
    public init() {}

    public func decode(_ payload: ByteBuffer) -> Result<Request, RequestDecodingFailure> {
        payload.withUnsafeReadableBytes { decode($0) }
    }

    public func decode(_ payload: Data) -> Result<Request, RequestDecodingFailure> {
        payload.withUnsafeBytes { decode($0) }
    }

    private func decode(_ bytes: UnsafeRawBufferPointer) -> Result<Request, RequestDecodingFailure> {
        // JSON parsers tend to accept invalid UTF-8 inside strings; the protocol does not.
        guard Self.isValidUTF8(bytes) else {
            return .failure(.init(id: nil, error: Self.invalidJSON))
        }
        if let request = FastRequestDecoder.decode(bytes) {
            return .success(request)
        }
        return decodeWithFoundation(Data(bytes))
    }

    /// The reference decoder: every error, and every request the fast path leaves to it.
    /// The payload is valid UTF-8.
    func decodeWithFoundation(_ payload: Data) -> Result<Request, RequestDecodingFailure> {
        let envelope: RequestEnvelope
        do {
            envelope = try JSONDecoder().decode(RequestEnvelope.self, from: payload)
        } catch DecodingError.typeMismatch {
            return .failure(.init(id: nil, error: Self.notAnObject))
        } catch {
            return .failure(.init(id: nil, error: Self.invalidJSON))
        }
        guard let id = envelope.id else {
            return .failure(.init(id: nil, error: envelope.idError ?? Self.missingID))
        }
        switch envelope.operation {
        case .success(let operation):
            return .success(Request(id: id, operation: operation))
        case .failure(let error):
            return .failure(.init(id: id, error: error))
        }
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

/// The top level of a request, decoded so that every failure below the top level becomes a
/// value instead of aborting the decode (which would lose the request id).
struct RequestEnvelope: Decodable {
    var id: RequestID?
    var idError: SidecarError?
    var operation: Result<Operation, SidecarError>

    enum CodingKeys: String, CodingKey {
        case id, op, params
    }

    init(from decoder: any Decoder) throws {
        // Throws typeMismatch when the payload is not an object: mapped to `not_an_object`.
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if container.contains(.id), (try? container.decodeNil(forKey: .id)) == false {
            do {
                id = try container.decode(RequestID.self, forKey: .id)
            } catch {
                id = nil
                idError = SidecarError(
                    code: .missingID,
                    message: "The request \"id\" must be a string of 1 to \(RequestID.maxStringLength) characters or an integer.",
                    field: "id")
            }
        } else {
            id = nil
        }
        operation = Self.decodeOperation(container)
    }

    private static func decodeOperation(_ container: KeyedDecodingContainer<CodingKeys>) -> Result<Operation, SidecarError> {
        guard let opName = try? container.decodeIfPresent(String.self, forKey: .op) else {
            return .failure(SidecarError(
                code: .unknownOperation, message: "The request has no \"op\" string naming its operation.",
                field: "op"))
        }
        guard let name = OperationName(rawValue: opName) else {
            let known = OperationName.allCases.map(\.rawValue).joined(separator: ", ")
            return .failure(SidecarError(
                code: .unknownOperation,
                message: "Unknown operation \"\(opName.prefix(64))\". Known operations: \(known).", field: "op"))
        }
        do {
            switch name {
            case .hello:
                return .success(.hello(try decodeParams(HelloParams.self, container) ?? HelloParams()))
            case .ping:
                return .success(.ping(try decodeParams(PingParams.self, container) ?? PingParams()))
            case .stats:
                return .success(.stats)
            case .send:
                guard let params = try decodeParams(SendParams.self, container) else {
                    throw ParamsError.missing
                }
                return .success(.send(params))
            case .verify:
                guard let params = try decodeParams(VerifyParams.self, container) else {
                    throw ParamsError.missing
                }
                return .success(.verify(params))
            }
        } catch let error as SidecarError {
            return .failure(error)
        } catch ParamsError.missing {
            return .failure(SidecarError(
                code: .invalidParams, message: "The \"\(opName)\" operation needs a \"params\" object.",
                field: "params"))
        } catch {
            return .failure(ParamsError.describe(error))
        }
    }

    private static func decodeParams<Params: Decodable>(
        _ type: Params.Type, _ container: KeyedDecodingContainer<CodingKeys>
    ) throws -> Params? {
        guard container.contains(.params), try !container.decodeNil(forKey: .params) else { return nil }
        return try container.decode(Params.self, forKey: .params)
    }
}

/// Maps a `DecodingError` inside `params` to an `invalid_params` error naming the field.
enum ParamsError: Error {
    case missing

    static func describe(_ error: any Error) -> SidecarError {
        guard let error = error as? DecodingError else {
            return SidecarError(code: .invalidParams, message: "The request parameters are invalid.", field: "params")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let path = jsonPath(context.codingPath + [key])
            return SidecarError(
                code: .invalidParams, message: "The required field \"\(path)\" is missing.", field: path)
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            let path = jsonPath(context.codingPath)
            return SidecarError(
                code: .invalidParams, message: "The field \"\(path)\" has the wrong type. \(context.debugDescription)",
                field: path)
        case .dataCorrupted(let context):
            let path = jsonPath(context.codingPath)
            return SidecarError(
                code: .invalidParams, message: "The field \"\(path)\" is invalid: \(context.debugDescription)",
                field: path)
        @unknown default:
            return SidecarError(code: .invalidParams, message: "The request parameters are invalid.", field: "params")
        }
    }

    /// `params.to[2]` style path from a coding path (which starts at `params`).
    static func jsonPath(_ path: [any CodingKey]) -> String {
        var result = ""
        for key in path {
            if let index = key.intValue {
                result += "[\(index)]"
            } else {
                result += result.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return result.isEmpty ? "params" : result
    }
}
