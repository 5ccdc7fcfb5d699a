import Foundation
import SidecarMail
import SidecarMessage
import Testing

@testable import SidecarEgress

@Suite struct FetchedAttachmentTests {
    @Test func spoolFileHasNoNameAndTheBytesStayReadable() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("egress-spool-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await TestHTTPServer.with(route: AttachmentFetcherTests.routes) { server in
            let fetcher = try AttachmentFetcher(
                configuration: AttachmentFetchConfiguration(temporaryDirectory: directory.path),
                destinations: AttachmentFetcherTests.fetcher().destinations
            )
            let attachment = try await fetcher.fetch(
                "http://127.0.0.1:\(server.port)/ok", name: "report.pdf", field: AttachmentFetcherTests.field)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
            #expect(try await AttachmentFetcherTests.collect(attachment) == AttachmentFetcherTests.body)
        }
    }

    @Test func composesIntoAMessageWithAnExactSize() async throws {
        try await TestHTTPServer.with(route: AttachmentFetcherTests.routes) { server in
            let attachment = try await AttachmentFetcherTests.fetcher().fetch(
                "http://127.0.0.1:\(server.port)/chunked", name: "report.pdf", field: AttachmentFetcherTests.field)
            let draft = MessageDraft(
                from: "a@example.com",
                to: ["b@example.com"],
                subject: "Report",
                text: "See attached.",
                attachments: [AttachmentDraft(filename: "report.pdf", content: .source(FetchedAttachmentSource(attachment)))]
            )
            let message = try MessageComposer().compose(draft)
            let bytes = try await message.serialize()
            #expect(message.byteCount == bytes.count)
            let text = String(decoding: bytes, as: UTF8.self)
            let firstLine = Data(AttachmentFetcherTests.body[0..<57]).base64EncodedString()
            let lastBytes = AttachmentFetcherTests.body.count % 57
            let lastLine = Data(AttachmentFetcherTests.body.suffix(lastBytes)).base64EncodedString()
            #expect(text.contains(firstLine + "\r\n"))
            #expect(text.contains("\r\n" + lastLine + "\r\n"))
        }
    }
}
