import SidecarMessage
import Testing

@Suite struct StringWhitespaceTests {
    @Test(arguments: [
        ("a@example.com", "a@example.com"), ("  a@example.com\t", "a@example.com"), ("\t \t", ""), ("", ""),
        ("a b", "a b"), (" é ", "é"), ("\n x \n", "\n x \n"), (" \u{301}x", "\u{301}x"), ("x\u{301} ", "x\u{301}"),
    ])
    func onlySpacesAndTabsAroundTheTextGo(text: String, expected: String) {
        #expect(Array(text.trimmingWhitespace().unicodeScalars) == Array(expected.unicodeScalars))
    }
}
