@testable import SidecarMessage
import Testing

@Suite struct MediaTypeTests {
    @Test(arguments: [
        ("application/pdf", "application/pdf", [MediaType.Parameter]()),
        ("Text/CSV; Charset=UTF-8", "text/csv", [.init(name: "charset", value: "UTF-8")]),
        ("text/plain; charset=\"utf-8\"; format=flowed", "text/plain", [.init(name: "charset", value: "utf-8"), .init(name: "format", value: "flowed")]),
        ("image/svg+xml;", "image/svg+xml", []),
    ])
    func parsesContentTypes(input: String, essence: String, parameters: [MediaType.Parameter]) throws {
        let type = try MediaType(parsing: input)
        #expect(type.essence == essence)
        #expect(type.parameters == parameters)
    }

    @Test(arguments: ["pdf", "application", "application/", "/pdf", "text/plain charset=utf-8", "text/plain; charset", "text/plain; a=\"unterminated", "multipart/mixed", "message/rfc822", "tëxt/plain"])
    func refusesInvalidOrCompositeTypes(input: String) {
        #expect(throws: MediaType.Invalid.self) { try MediaType(parsing: input) }
    }

    @Test(arguments: [
        ("report.PDF", "application/pdf"), ("photo.jpeg", "image/jpeg"), ("data.csv", "text/csv"),
        ("archive.tar.gz", "application/gzip"), ("noextension", "application/octet-stream"), (".hidden", "application/octet-stream"),
        ("mail.eml", "application/octet-stream"), ("sheet.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ])
    func guessesFromTheExtension(filename: String, essence: String) {
        #expect(MediaType.guess(forFilename: filename).essence == essence)
    }
}
