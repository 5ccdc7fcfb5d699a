import NIOPosix

/// A URL attachment's body, fetched in full before anything is sent and spooled to an
/// anonymous temporary file: never held whole in memory, and read again from the file for
/// each serialisation (the composer needs every ``makeChunks()`` to yield the same bytes,
/// which a second network fetch could not promise). ``byteCount`` is exact, so the
/// message size is known up front (SIZE, BDAT). The mail engine adapts it to the
/// composer's `AttachmentSource`.
public struct FetchedAttachment: Sendable {
    /// The size of the body in bytes.
    public let size: Int
    /// The response's Content-Type, if any: a fallback when the request names none.
    public let contentType: String?
    let file: SpoolFile
    let threadPool: NIOThreadPool

    public var byteCount: Int? { size }

    public func makeChunks() -> any AsyncSequence<ArraySlice<UInt8>, any Error> {
        Chunks(file: file, size: size, threadPool: threadPool)
    }

    struct Chunks: AsyncSequence, AsyncIteratorProtocol {
        static let chunkSize = 64 * 1024
        let file: SpoolFile
        let size: Int
        let threadPool: NIOThreadPool
        var offset = 0

        init(file: SpoolFile, size: Int, threadPool: NIOThreadPool) {
            self.file = file
            self.size = size
            self.threadPool = threadPool
        }

        func makeAsyncIterator() -> Chunks { self }

        mutating func next() async throws -> ArraySlice<UInt8>? {
            guard offset < size else { return nil }
            let count = Swift.min(Self.chunkSize, size - offset)
            let file = self.file
            let start = offset
            let bytes = try await threadPool.runIfActive { try file.read(at: start, count: count) }
            offset += count
            return bytes[...]
        }
    }
}
