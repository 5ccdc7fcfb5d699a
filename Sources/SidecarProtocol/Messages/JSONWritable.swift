import NIOCore

/// A value that writes itself as JSON with a ``JSONWriter``, without `JSONEncoder`.
///
/// A conformance writes exactly one JSON value, the same one (members, names, omitted nils)
/// as the type's `Encodable` conformance, which ``Response/payload(allocator:)`` falls back
/// to for results that are not `JSONWritable`.
public protocol JSONWritable: Sendable {
    /// Writes the value as one JSON value.
    func writeJSON(to writer: inout JSONWriter)
}

extension JSONWritable {
    /// The value's JSON text, as ``writeJSON(to:)`` writes it.
    public var jsonText: String {
        var writer = JSONWriter(buffer: ByteBuffer())
        writeJSON(to: &writer)
        return String(buffer: writer.buffer)
    }
}
