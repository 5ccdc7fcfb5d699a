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
        appendingPayload(to: allocator.buffer(capacity: 256))
    }

    /// The response as one whole frame: the 4-byte big-endian length, then the bytes of
    /// ``payload(allocator:)``, written into one buffer (no frame encoder copies it again).
    public func frame(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var header = allocator.buffer(capacity: 256)
        header.writeInteger(UInt32(0))
        var frame = appendingPayload(to: header)
        guard let length = UInt32(exactly: frame.readableBytes - FrameDecoder.headerLength) else {
            // Results are small; a payload a 32-bit length cannot describe means a bug.
            let error = SidecarError(code: .internalError, message: "The response is too large to send.")
            return Response(id: id, outcome: .failure(error)).frame(allocator: allocator)
        }
        frame.setInteger(length, at: frame.readerIndex, endianness: .big)
        return frame
    }

    private func appendingPayload(to buffer: ByteBuffer) -> ByteBuffer {
        if let written = writtenPayload(appendingTo: buffer) {
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
        var buffer = buffer
        buffer.writeBytes(data)
        return buffer
    }

    /// The payload written with ``JSONWriter`` after `buffer`'s bytes, with the members
    /// `encode(to:)` writes; nil when the result is neither absent nor ``JSONWritable``.
    private func writtenPayload(appendingTo buffer: ByteBuffer) -> ByteBuffer? {
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

        var writer = JSONWriter(buffer: buffer)
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
