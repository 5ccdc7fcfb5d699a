import NIOCore
import Testing

@testable import SidecarSMTP

@Suite struct DotStufferTests {
    func stuff(_ chunks: [String]) -> String {
        var stuffer = DotStuffer()
        var buffer = ByteBuffer()
        for chunk in chunks { stuffer.stuff(Array(chunk.utf8), into: &buffer) }
        stuffer.finish(into: &buffer)
        return String(buffer: buffer)
    }

    @Test func linesStartingWithADotGetAnother() {
        #expect(stuff([".a\r\nb\r\n..c\r\n.\r\nd.e\r\n"]) == "..a\r\nb\r\n...c\r\n..\r\nd.e\r\n")
    }

    @Test(arguments: 1...9)
    func stuffingIsTheSameHoweverTheDataIsChunked(size: Int) {
        let text = ".x\r\n\r\n.\r\n..\r\nplain\r\n.end\r\n"
        let bytes = Array(text)
        let chunks = stride(from: 0, to: bytes.count, by: size).map { String(bytes[$0..<min($0 + size, bytes.count)]) }
        #expect(stuff(chunks) == stuff([text]))
    }

    @Test func missingFinalCRLFIsAddedButNotDoubled() {
        #expect(stuff(["no newline"]) == "no newline\r\n")
        #expect(stuff(["ends\r", "\n"]) == "ends\r\n")
        #expect(stuff([]) == "")
    }
}
