@testable import SidecarMessage
import Testing

@Suite struct QuotedPrintableEncoderTests {
    private func encode(_ text: String) -> String {
        var encoder = QuotedPrintableEncoder()
        var output: [UInt8] = []
        TextContent(text, ensuringFinalLineBreak: false).encode(with: &encoder, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// A straightforward RFC 2045 §6.7 decoder, to check that encoding loses nothing.
    private func decode(_ encoded: String) -> [UInt8] {
        var bytes = Array(encoded.utf8)[...]
        var output: [UInt8] = []
        while let byte = bytes.first {
            bytes = bytes.dropFirst()
            guard byte == UInt8(ascii: "=") else {
                output.append(byte)
                continue
            }
            if bytes.starts(with: [13, 10]) {
                bytes = bytes.dropFirst(2)
            } else {
                output.append(UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16)!)
                bytes = bytes.dropFirst(2)
            }
        }
        return output
    }

    @Test(arguments: [
        ("plain text", "plain text"),
        ("a=b", "a=3Db"),
        ("café", "caf=C3=A9"),
        ("trailing space \nnext", "trailing space=20\r\nnext"),
        ("trailing tab\t", "trailing tab=09"),
        ("tab\tinside", "tab\tinside"),
        ("nul\u{0}byte", "nul=00byte"),
        ("line1\r\nline2\rline3\nline4", "line1\r\nline2\r\nline3\r\nline4"),
        ("--=_boundary", "--=3D_boundary"),
        (".leading dot", ".leading dot"),
    ])
    func encodesPerRFC2045(input: String, expected: String) {
        #expect(encode(input) == expected)
    }

    @Test func softBreaksKeepLinesWithin76Characters() {
        let text = String(repeating: "abcdefghij", count: 30) + " é " + String(repeating: "=", count: 100)
        let encoded = encode(text)
        let lines = Array(encoded.utf8).crlfLines
        #expect(lines.count > 5)
        #expect(lines.allSatisfy { $0.count <= 76 })
        #expect(lines.dropLast().allSatisfy { $0.last == UInt8(ascii: "=") })
        #expect(decode(encoded) == Array(text.utf8))
    }

    @Test func neverSplitsAnEscapeAcrossLines() {
        let text = String(repeating: "ü", count: 200)
        let encoded = encode(text)
        for line in Array(encoded.utf8).crlfLines {
            let withoutSoftBreak = line.last == UInt8(ascii: "=") ? line.dropLast() : line
            #expect(withoutSoftBreak.count % 3 == 0)
        }
        #expect(decode(encoded) == Array(text.utf8))
    }

    @Test func whitespaceBeforeASoftBreakIsNotLineFinal() {
        // A space at column 75 is followed by the soft break's "=", so it may stay literal.
        let text = String(repeating: "x", count: 74) + " y"
        let encoded = encode(text)
        #expect(encoded == String(repeating: "x", count: 74) + " =\r\ny")
        #expect(decode(encoded) == Array(text.utf8))
    }
}
