#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Random words from the kernel's cryptographic generator, fetched a block at a time.
///
/// `SystemRandomNumberGenerator` makes one `getrandom` system call per word; a composed
/// message needs two words for its Message-ID and boundaries, and those two calls were a
/// measurable part of a warm send. This reads 256 bytes (32 words) per call and hands
/// the words out under a lock.
///
/// For unique tokens that are not secrets (Message-IDs, MIME boundaries): the bytes sit
/// in memory until used. Keys come from `SystemRandomNumberGenerator` directly. The
/// daemon never forks; a forked child would hand out the parent's unused words again.
public final class BufferedRandom: Sendable {
    /// The process's buffer.
    public static let shared = BufferedRandom()

    private struct Block {
        var words: [UInt64]
        /// The next unused word; `words.count` when all are used.
        var next: Int
    }

    private let block: Mutex<Block>

    /// `wordsPerRefill` words are read at a time (32 fill one system call).
    public init(wordsPerRefill: Int = 32) {
        precondition(wordsPerRefill > 0)
        let words = [UInt64](repeating: 0, count: wordsPerRefill)
        block = Mutex(Block(words: words, next: words.count))
    }

    /// The next 64 random bits.
    public func next() -> UInt64 {
        block.withLock { block in
            if block.next == block.words.count {
                block.words.withUnsafeMutableBytes { Self.fill($0) }
                block.next = 0
            }
            defer { block.next += 1 }
            return block.words[block.next]
        }
    }

    /// Fills `buffer` from the kernel: `getentropy`, which is `getrandom` for at most 256
    /// bytes a call (and never interrupted for that size).
    private static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        var filled = 0
        while filled < buffer.count {
            let size = min(256, buffer.count - filled)
            guard getentropy(buffer.baseAddress! + filled, size) == 0 else {
                // Only for bad arguments, or a kernel without getrandom (before 3.17).
                fatalError("getentropy failed: errno \(errno)")
            }
            filled += size
        }
    }
}
