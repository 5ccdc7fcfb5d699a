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

    /// The contiguous fast path (runs handed over whole) and the byte-by-byte path agree
    /// on every split of inputs full of CR, LF and dots, for the identity and the
    /// quoted-printable encoders.
    @Test func theFastPathMatchesByteByByteOnEverySplit() {
        let alphabet: [UInt8] = Array("ab.\r\n=é ".utf8)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let input = (0..<Int.random(in: 0...40, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            let split = Int.random(in: 0...input.count, using: &generator)
            func run<E: TransferEncoder>(_ encoder: E, contiguous: Bool) -> [UInt8] {
                var encoder = encoder
                var normalizer = LineBreakNormalizer()
                var output: [UInt8] = []
                for chunk in [input[..<split], input[split...]] {
                    if contiguous {
                        normalizer.feed(Array(chunk), to: &encoder, into: &output)
                    } else {
                        // A lazy map has no contiguous storage: the byte-by-byte path.
                        normalizer.feed(chunk.lazy.map { $0 }, to: &encoder, into: &output)
                    }
                }
                normalizer.finish(to: &encoder, into: &output)
                return output
            }
            #expect(run(IdentityTransferEncoder(), contiguous: true) == run(IdentityTransferEncoder(), contiguous: false), "\(input) split at \(split)")
            #expect(run(QuotedPrintableEncoder(), contiguous: true) == run(QuotedPrintableEncoder(), contiguous: false), "\(input) split at \(split)")
        }
    }
}
