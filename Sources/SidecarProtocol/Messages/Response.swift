import FoundationEssentials
import NIOCore
import SidecarCore

/// One response: `{"id": ..., "ok": true, "result": {...}}` or
/// `{"id": ..., "ok": false, "error": {...}}` (an error response may also carry a partial
/// `result`, e.g. per-recipient outcomes of a failed send). `id` is `null` only when the
/// request's id could not be read.
public struct Response: Sendable, Encodable {
    public enum Outcome: Sendable {
        case success(any Encodable & Sendable)
        case failure(SidecarError, partialResult: (any Encodable & Sendable)? = nil)
    }

    public var id: RequestID?
    public var outcome: Outcome

    public init(id: RequestID?, outcome: Outcome) {
        self.id = id
        self.outcome = outcome
    }

    public static func success(id: RequestID, _ result: any Encodable & Sendable) -> Response {
        Response(id: id, outcome: .success(result))
    }

    public static func failure(id: RequestID?, _ error: SidecarError) -> Response {
        Response(id: id, outcome: .failure(error))
    }

    public var error: SidecarError? {
        switch outcome {
        case .success: nil
        case .failure(let error, _): error
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, ok, result, error
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        if let id {
            try container.encode(id, forKey: .id)
        } else {
            try container.encodeNil(forKey: .id)
        }
        switch outcome {
        case .success(let result):
            try container.encode(true, forKey: .ok)
            try container.encode(result, forKey: .result)
        case .failure(let error, let partial):
            try container.encode(false, forKey: .ok)
            try container.encode(error, forKey: .error)
            if let partial {
                try container.encode(partial, forKey: .result)
            }
        }
    }

    /// The response as a frame payload (JSON, UTF-8). A result that is ``JSONWritable`` is
    /// written with ``JSONWriter``; any other goes through `JSONEncoder`. Falls back to an
    /// `internal_error` response if the result cannot be encoded, so a request is always answered.
    public func payload(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        if let written = writtenPayload(allocator: allocator) {
            return written
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let data: Data
        do {
            data = try encoder.encode(self)
        } catch {
            let fallback = Response(
                id: id,
                outcome: .failure(SidecarError(code: .internalError, message: "The response could not be encoded.")))
            data = (try? encoder.encode(fallback)) ?? Data(#"{"id":null,"ok":false}"#.utf8)
        }
        var buffer = allocator.buffer(capacity: data.count)
        buffer.writeBytes(data)
        return buffer
    }

    /// The payload written with ``JSONWriter``, with the members `encode(to:)` writes; nil
    /// when the result is neither absent nor ``JSONWritable``.
    private func writtenPayload(allocator: ByteBufferAllocator) -> ByteBuffer? {
        let failure: SidecarError?
        let encodable: (any Encodable & Sendable)?
        switch outcome {
        case .success(let value):
            failure = nil
            encodable = value
        case .failure(let error, let partial):
            failure = error
            encodable = partial
        }
        let result: (any JSONWritable)?
        if let encodable {
            guard let writable = encodable as? any JSONWritable else { return nil }
            result = writable
        } else {
            result = nil
        }

        var writer = JSONWriter(buffer: allocator.buffer(capacity: 256))
        writer.beginObject()
        writer.key("id")
        switch id {
        case .string(let value)?: writer.string(value)
        case .integer(let value)?: writer.int64(value)
        case nil: writer.null()
        }
        writer.member("ok", failure == nil)
        writer.member("error", failure)
        if let result {
            writer.key("result")
            result.writeJSON(to: &writer)
        }
        writer.endObject()
        return writer.buffer
    }
}
