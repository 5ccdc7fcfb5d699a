import Testing

@testable import SidecarEgress

@Suite struct AttachmentURLTests {
    @Test(arguments: [
        ("https://files.example.com/a/b.pdf?x=1#frag", AttachmentURL.Scheme.https, "files.example.com", 443, "/a/b.pdf?x=1"),
        ("HTTP://files.example.com", .http, "files.example.com", 80, "/"),
        ("http://files.example.com:8080?x", .http, "files.example.com", 8080, "/?x"),
        ("http://[2001:db8::1]:81/x", .http, "[2001:db8::1]", 81, "/x"),
        ("http://[2001:db8::1]/x", .http, "[2001:db8::1]", 80, "/x"),
        ("http://127.0.0.1:9/x%20y", .http, "127.0.0.1", 9, "/x%20y"),
    ])
    func parses(text: String, scheme: AttachmentURL.Scheme, host: String, port: Int, target: String) throws {
        let url = try AttachmentURL(text)
        #expect(url.scheme == scheme)
        #expect(url.host == host)
        #expect(url.port == port)
        #expect(url.target == target)
    }

    @Test(arguments: [
        ("ftp://example.com/x", AttachmentURL.Failure.notHTTP),
        ("file:///etc/passwd", .notHTTP),
        ("gopher://127.0.0.1:25/", .notHTTP),
        ("example.com/x", .notHTTP),
        ("https://user:pass@example.com/x", .credentials),
        ("https://user@example.com/x", .credentials),
        ("https://example.com@10.0.0.1/x", .credentials),
        ("https://example.com/a b", .invalidCharacters),
        ("https://example.com/\r\nHost: evil", .invalidCharacters),
        ("https://example.com\\@evil.com/", .invalidCharacters),
        ("https://exämple.com/", .invalidCharacters),
        ("https:///x", .missingHost),
        ("https://:443/x", .missingHost),
        ("https://example.com:0/", .invalidPort),
        ("https://example.com:65536/", .invalidPort),
        ("https://example.com:+80/", .invalidPort),
        ("https://example.com:/", .invalidPort),
        ("https://[::1/", .missingHost),
    ])
    func refuses(text: String, failure: AttachmentURL.Failure) {
        #expect(throws: failure) { try AttachmentURL(text) }
    }

    @Test func redactedDropsTheQuery() throws {
        let url = try AttachmentURL("https://bucket.s3.example.com:8443/report.pdf?X-Amz-Signature=secret")
        #expect(url.redacted == "https://bucket.s3.example.com:8443/report.pdf?…")
        #expect(!url.redacted.contains("secret"))
    }
}
