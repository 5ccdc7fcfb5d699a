/// Bytes of an attachment produced while the message is being written (for example a URL
/// fetch), streamed through the base64 encoder into the output.
///
/// ``makeChunks()`` is called once per serialisation and must yield the same bytes each
/// time it is called. If ``byteCount`` is not nil the source must yield exactly that many
/// bytes; the writer fails with `attachment_invalid` otherwise.
public protocol AttachmentSource: Sendable {
    /// The exact number of bytes, when known in advance (it makes the message size exact,
    /// which BDAT needs); nil when not known until the end.
    var byteCount: Int? { get }

    /// The content, in order, in chunks of any size.
    func makeChunks() -> any AsyncSequence<ArraySlice<UInt8>, any Error>
}

/// In-memory bytes, yielded in slices.
struct ByteArraySource: AttachmentSource {
    let bytes: [UInt8]

    var byteCount: Int? { bytes.count }

    func makeChunks() -> any AsyncSequence<ArraySlice<UInt8>, any Error> {
        Chunks(bytes: bytes)
    }

    struct Chunks: AsyncSequence, AsyncIteratorProtocol {
        static let chunkSize = 48 * 1024
        let bytes: [UInt8]
        var offset = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        func makeAsyncIterator() -> Chunks { self }

        mutating func next() async throws -> ArraySlice<UInt8>? {
            guard offset < bytes.count else { return nil }
            let end = Swift.min(offset + Self.chunkSize, bytes.count)
            defer { offset = end }
            return bytes[offset..<end]
        }
    }
}

/// Base64 text from the request, already validated, decoded chunk by chunk as it is read.
struct Base64TextSource: AttachmentSource {
    let text: String
    let decodedCount: Int

    var byteCount: Int? { decodedCount }

    /// Validates `text` and measures its decoded size without keeping the bytes.
    init(validating text: String) throws(Base64Decoder.Failure) {
        var decoder = Base64Decoder()
        var counter = ByteCounter()
        try decoder.decode(text.utf8, into: &counter)
        try decoder.finish(into: &counter)
        self.text = text
        self.decodedCount = counter.count
    }

    func makeChunks() -> any AsyncSequence<ArraySlice<UInt8>, any Error> {
        Chunks(text: text)
    }

    struct Chunks: AsyncSequence, AsyncIteratorProtocol {
        /// Base64 characters read a chunk: about 48 KiB decoded.
        static let inputChunkSize = 64 * 1024
        let text: String
        var index: String.UTF8View.Index
        var decoder = Base64Decoder()
        var finished = false

        init(text: String) {
            self.text = text
            self.index = text.utf8.startIndex
        }

        func makeAsyncIterator() -> Chunks { self }

        mutating func next() async throws -> ArraySlice<UInt8>? {
            var output: [UInt8] = []
            let utf8 = text.utf8
            while output.isEmpty {
                if index == utf8.endIndex {
                    guard !finished else { return nil }
                    finished = true
                    try decoder.finish(into: &output)
                    return output.isEmpty ? nil : output[...]
                }
                let end = utf8.index(index, offsetBy: Self.inputChunkSize, limitedBy: utf8.endIndex) ?? utf8.endIndex
                output.reserveCapacity(Self.inputChunkSize / 4 * 3)
                try decoder.decode(utf8[index..<end], into: &output)
                index = end
            }
            return output[...]
        }
    }
}
