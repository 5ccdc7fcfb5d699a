import SidecarCore
import Testing

@Suite struct BufferedRandomTests {
    /// A tiny block forces a refill every three words: words from successive refills, and
    /// from within one, are all different (a repeat among 3000 random 64-bit words would
    /// mean a refill handed out stale or zeroed words).
    @Test func wordsAcrossRefillsAreAllDistinct() {
        let random = BufferedRandom(wordsPerRefill: 3)
        let words = (0..<3000).map { _ in random.next() }
        #expect(Set(words).count == words.count)
        #expect(!words.contains(0))
    }

    /// Many tasks drawing at once never get the same word twice.
    @Test func concurrentDrawsNeverRepeat() async {
        let random = BufferedRandom(wordsPerRefill: 7)
        let words = await withTaskGroup(of: [UInt64].self) { group in
            for _ in 0..<8 {
                group.addTask { (0..<500).map { _ in random.next() } }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        #expect(words.count == 4000)
        #expect(Set(words).count == words.count)
    }
}
