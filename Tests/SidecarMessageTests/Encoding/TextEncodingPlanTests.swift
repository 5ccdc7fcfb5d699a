@testable import SidecarMessage
import Testing

@Suite struct TextEncodingPlanTests {
    private func plan(_ text: String) -> TextEncodingPlan {
        TextEncodingPlan(content: TextContent(text, ensuringFinalLineBreak: false))
    }

    @Test(arguments: [
        ("Plain ASCII text.\nSecond line.", TransferEncoding.sevenBit),
        ("", .sevenBit),
        ("tab\tseparated", .sevenBit),
        (String(repeating: "x", count: 998), .sevenBit),
        (String(repeating: "x", count: 999), .quotedPrintable),
        ("Grüße aus München, mostly ASCII otherwise.", .quotedPrintable),
        ("nul \u{0} byte", .quotedPrintable),
        ("escape \u{1B}[0m", .quotedPrintable),
        ("--=_looks like our boundary", .quotedPrintable),
        ("text\n--=_on a later line", .quotedPrintable),
        ("-- signature dashes are fine", .sevenBit),
        ("Привет, как дела? Это сообщение полностью на русском языке.", .base64),
        ("これは日本語のメッセージです。", .base64),
    ])
    func choosesTheEncoding(text: String, expected: TransferEncoding) {
        #expect(plan(text).encoding == expected)
    }

    @Test(arguments: [
        "ascii\nlines\r\n",
        "café crème brûlée and more text to make it mostly ascii",
        "Привет мир\nвторая строка",
        String(repeating: "y", count: 2000),
        "bare\rCR and bare\nLF and trailing space \n",
    ])
    func announcedSizeMatchesTheEncodedBytes(text: String) {
        let plan = plan(text)
        var output: [UInt8] = []
        let content = TextContent(text, ensuringFinalLineBreak: false)
        switch plan.encoding {
        case .sevenBit:
            var encoder = IdentityTransferEncoder()
            content.encode(with: &encoder, into: &output)
        case .quotedPrintable:
            var encoder = QuotedPrintableEncoder()
            content.encode(with: &encoder, into: &output)
        case .base64:
            var encoder = Base64Encoder()
            content.encode(with: &encoder, into: &output)
        }
        #expect(plan.encodedSize == output.count)
    }
}
