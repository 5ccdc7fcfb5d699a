import Foundation
@testable import SidecarMessage
import Testing

@Suite struct HeaderFolderTests {
    private func lines(_ field: [UInt8]) -> [String] {
        field.crlfLines.map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func shortFieldsStayOnOneLine() {
        #expect(HeaderFolder.field("Subject", ["Hello", "world"]) == Array("Subject: Hello world\r\n".utf8))
        #expect(HeaderFolder.field("X-Empty", []) == Array("X-Empty:\r\n".utf8))
    }

    @Test func foldsAtSpacesBefore78Characters() {
        let words = (0..<60).map { "word\($0)" }
        let field = HeaderFolder.field("Subject", words)
        let folded = lines(field)
        #expect(folded.count > 3)
        #expect(folded.allSatisfy { $0.utf8.count <= 78 })
        #expect(folded.dropFirst().allSatisfy { $0.hasPrefix(" ") && !$0.hasPrefix("  ") })
        // Unfolding (removing CRLF) restores the single-spaced text.
        let unfolded = String(decoding: field, as: UTF8.self).replacingOccurrences(of: "\r\n ", with: " ")
        #expect(unfolded == "Subject: " + words.joined(separator: " ") + "\r\n")
    }

    @Test func aLongTokenGetsItsOwnLineAndIsNeverSplit() {
        let long = String(repeating: "x", count: 300)
        let folded = lines(HeaderFolder.field("X-Long", ["a", long, "b"]))
        #expect(folded == ["X-Long: a", " " + long, " b"])
    }

    @Test func aTooLongFirstTokenFoldsAfterTheColon() {
        let long = String(repeating: "y", count: 990)
        let folded = lines(HeaderFolder.field("X-Header-Name", [long]))
        #expect(folded == ["X-Header-Name:", " " + long])
        #expect(folded.allSatisfy { $0.utf8.count <= 998 })
    }
}

@Suite struct DisplayNameTests {
    @Test(arguments: [
        ("Alice Smith", ["Alice", "Smith"]),
        ("Smith, Alice", ["\"Smith, Alice\""]),
        ("John Q. Public", ["\"John Q. Public\""]),
        ("say \"hi\"", ["\"say \\\"hi\\\"\""]),
        ("back\\slash", ["\"back\\\\slash\""]),
        ("two  spaces", ["\"two  spaces\""]),
    ])
    func usesAtomsOrAQuotedString(name: String, tokens: [String]) {
        #expect(DisplayName.tokens(name) == tokens)
    }

    @Test(arguments: ["Zoë", "=?utf-8?Q?x?=", "tab\tname", String(repeating: "long name ", count: 10) + ", with comma"])
    func encodesTheRest(name: String) {
        #expect(DisplayName.tokens(name).allSatisfy { $0.hasPrefix("=?utf-8?B?") })
    }
}
