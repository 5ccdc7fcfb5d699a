@testable import SidecarMessage
import Testing

@Suite struct LineBreakNormalizerTests {
    private func normalize(_ chunks: [String]) -> String {
        var normalizer = LineBreakNormalizer()
        var encoder = IdentityTransferEncoder()
        var output: [UInt8] = []
        for chunk in chunks { normalizer.feed(chunk.utf8, to: &encoder, into: &output) }
        normalizer.finish(to: &encoder, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    @Test(arguments: [
        ("a\nb", "a\r\nb"),
        ("a\rb", "a\r\nb"),
        ("a\r\nb", "a\r\nb"),
        ("a\n\rb", "a\r\n\r\nb"),
        ("a\r\r\nb", "a\r\n\r\nb"),
        ("\n\n", "\r\n\r\n"),
        ("end\r", "end\r\n"),
        ("mixed\r\nline\nendings\r", "mixed\r\nline\r\nendings\r\n"),
    ])
    func turnsEveryLineBreakIntoCRLF(input: String, expected: String) {
        #expect(normalize([input]) == expected)
    }

    @Test func aCRLFSplitAcrossChunksIsOneLineBreak() {
        #expect(normalize(["a\r", "\nb"]) == "a\r\nb")
        #expect(normalize(["a\r", "b"]) == "a\r\nb")
    }

    @Test func addsAFinalLineBreakOnlyWhenAsked() {
        var output: [UInt8] = []
        var encoder = IdentityTransferEncoder()
        TextContent("no newline", ensuringFinalLineBreak: true).encode(with: &encoder, into: &output)
        #expect(String(decoding: output, as: UTF8.self) == "no newline\r\n")
        output = []
        TextContent("has one\n", ensuringFinalLineBreak: true).encode(with: &encoder, into: &output)
        #expect(String(decoding: output, as: UTF8.self) == "has one\r\n")
        output = []
        TextContent("", ensuringFinalLineBreak: true).encode(with: &encoder, into: &output)
        #expect(output.isEmpty)
    }
}
