@testable import SidecarMessage
import Testing

@Suite struct HTMLPlainTextTests {
    @Test(arguments: [
        ("<p>Hello</p><p>World</p>", "Hello\n\nWorld"),
        ("Line one<br>Line two<br/>Line three", "Line one\nLine two\nLine three"),
        ("<ul><li>One</li><li>Two</li></ul>", "- One\n- Two"),
        ("<a href=\"https://example.com/x\">Click</a> here", "Click (https://example.com/x) here"),
        ("<a href='#top'>Top</a>", "Top"),
        ("Fish &amp; chips &lt;3 &#233;t&#xE9; &nbsp;&copy; &bogus; & alone", "Fish & chips <3 été \u{A0}© &bogus; & alone"),
        ("<html><head><title>T</title><style>p { color: red }</style></head><body>Body</body></html>", "Body"),
        ("<script>alert(1)</script>Safe<!-- hidden -->", "Safe"),
        ("  lots   of\n\n  whitespace  ", "lots of whitespace"),
        ("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc"),
        ("<H1>Title</H1><P>Text</P>", "Title\n\nText"),
    ])
    func rendersReadableText(html: String, expected: String) {
        #expect(HTMLPlainText.render(html) == expected)
    }
}
