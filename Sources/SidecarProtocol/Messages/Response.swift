import NIOCore
import SidecarCore

/// One response: `{"id": ..., "ok": true, "result": {...}}` or
/// `{"id": ..., "ok": false, "error": {...}}` (an error response may also carry a partial
/// `result`, e.g. per-recipient outcomes of a failed send). `id` is `null` only when the
/// request's id could not be read.
public struct Response: Sendable {
    /// The result or error. A result is any ``JSONWritable`` (each operation's result type
    /// is), written with ``JSONWriter``: the daemon has one way to write JSON.
    public enum Outcome: Sendable {
        case success(any JSONWritable)
        case failure(SidecarError, partialResult: (any JSONWritable)? = nil)
    }

    public var id: RequestID?
    public var outcome: Outcome

    public init(id: RequestID?, outcome: Outcome) {
        self.id = id
        self.outcome = outcome
    }

    public static func success(id: RequestID, _ result: any JSONWritable) -> Response {
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

    /// The response as a frame payload (JSON, UTF-8).
    public func payload(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        writePayload(appendingTo: allocator.buffer(capacity: 256))
    }

    /// The response as one whole frame: the 4-byte big-endian length, then the bytes of
    /// ``payload(allocator:)``, written into one buffer (no frame encoder copies it again).
    public func frame(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var header = allocator.buffer(capacity: 256)
        header.writeInteger(UInt32(0))
        var frame = writePayload(appendingTo: header)
        guard let length = UInt32(exactly: frame.readableBytes - FrameDecoder.headerLength) else {
            // Results are small; a payload a 32-bit length cannot describe means a bug.
            let error = SidecarError(code: .internalError, message: "The response is too large to send.")
            return Response(id: id, outcome: .failure(error)).frame(allocator: allocator)
        }
        frame.setInteger(length, at: frame.readerIndex, endianness: .big)
        return frame
    }

    /// The payload written with ``JSONWriter`` after `buffer`'s bytes: `id`, `ok`, then
    /// `error` and `result` when present.
    private func writePayload(appendingTo buffer: ByteBuffer) -> ByteBuffer {
        let failure: SidecarError?
        let result: (any JSONWritable)?
        switch outcome {
        case .success(let value):
            failure = nil
            result = value
        case .failure(let error, let partial):
            failure = error
            result = partial
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
