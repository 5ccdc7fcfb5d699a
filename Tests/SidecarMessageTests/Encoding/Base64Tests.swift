import Foundation
@testable import SidecarMessage
import Testing

@Suite struct Base64EncoderTests {
    private func encode(_ bytes: [UInt8], chunkSize: Int = .max) -> [UInt8] {
        var encoder = Base64Encoder()
        var output: [UInt8] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunkSize)
            encoder.encode(bytes[offset..<end], into: &output)
            offset = end
        }
        encoder.finish(into: &output)
        return output
    }

    private func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    @Test(arguments: [0, 1, 2, 3, 56, 57, 58, 114, 1000, 4099])
    func matchesFoundationWrappedAt76Columns(count: Int) {
        let bytes = randomBytes(count)
        let expected = Data(bytes).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        #expect(String(decoding: encode(bytes), as: UTF8.self) == expected)
    }

    @Test(arguments: [1, 2, 5, 7, 100])
    func chunkingDoesNotChangeTheOutput(chunkSize: Int) {
        let bytes = randomBytes(1234)
        #expect(encode(bytes, chunkSize: chunkSize) == encode(bytes))
    }

    @Test func linesAreAtMost76CharactersWithNoTrailingLineBreak() {
        let output = encode(randomBytes(10_000))
        let lines = output.crlfLines
        #expect(lines.allSatisfy { $0.count <= 76 })
        #expect(lines.dropLast().allSatisfy { $0.count == 76 })
        #expect(output.suffix(2) != [13, 10])
    }

    @Test func encodedSizeIsExact() {
        for count in 0...400 {
            #expect(Base64Encoder.encodedSize(of: count) == encode(randomBytes(count)).count, "\(count)")
        }
    }
}

@Suite struct Base64DecoderTests {
    private func decode(_ text: String) throws(Base64Decoder.Failure) -> [UInt8] {
        var decoder = Base64Decoder()
        var output: [UInt8] = []
        try decoder.decode(text.utf8, into: &output)
        try decoder.finish(into: &output)
        return output
    }

    @Test(arguments: [
        ("", ""),
        ("SGVsbG8=", "Hello"),
        ("SGVsbG8", "Hello"),
        ("SGVsbA==", "Hell"),
        ("SGVsbA", "Hell"),
        ("SGVs", "Hel"),
        ("SGVs\r\nbG8=\r\n", "Hello"),
        ("  S G V s\tb G 8 = ", "Hello"),
        ("SGVsbG8=\n\n", "Hello"),
        ("SGVsbA=\n=", "Hell"),
    ])
    func decodesValidInput(input: String, expected: String) throws {
        #expect(try decode(input) == Array(expected.utf8))
    }

    @Test func decodesWhatFoundationEncodes() throws {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<5000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        #expect(try decode(Data(bytes).base64EncodedString(options: .lineLength64Characters)) == bytes)
    }

    @Test(arguments: [
        ("SGVsbG8*", Base64Decoder.Failure.invalidCharacter(UInt8(ascii: "*"), offset: 7)),
        ("data:application/pdf;base64,SGVsbG8=", .invalidCharacter(UInt8(ascii: ":"), offset: 4)),
        ("SGVs-G8_", .invalidCharacter(UInt8(ascii: "-"), offset: 4)),
        ("S", .truncated),
        ("SGVsb", .truncated),
        ("SGVsbG8=A", .misplacedPadding(offset: 8)),
        ("SGVsbG8==", .misplacedPadding(offset: 8)),
        ("=SGV", .misplacedPadding(offset: 0)),
        ("SG=Vs", .misplacedPadding(offset: 3)),
        ("S===", .misplacedPadding(offset: 1)),
        ("SGVsbA=", .truncated),
        ("SGVsbG8=SGVs", .misplacedPadding(offset: 8)),
    ])
    func refusesInvalidInput(input: String, failure: Base64Decoder.Failure) {
        #expect(throws: failure) { try decode(input) }
    }

    @Test func refusesNonASCII() {
        #expect(throws: Base64Decoder.Failure.invalidCharacter(0xC3, offset: 4)) { try decode("SGVsé") }
    }
}
