import Foundation
@testable import SidecarMessage
import Testing

@Suite struct MIMEParameterTests {
    @Test(arguments: [
        ("report.pdf", ["filename=report.pdf"]),
        ("my report.pdf", ["filename=\"my report.pdf\""]),
        ("a\"b\\c.txt", ["filename*=utf-8''a%22b%5Cc.txt"]),
        ("résumé.pdf", ["filename*=utf-8''r%C3%A9sum%C3%A9.pdf"]),
        ("100% (final).txt", ["filename=\"100% (final).txt\""]),
        ("日本.txt", ["filename*=utf-8''%E6%97%A5%E6%9C%AC.txt"]),
        ("it's*.txt", ["filename=it's*.txt"]),
    ])
    func writesTheSimplestForm(value: String, tokens: [String]) {
        #expect(MIMEParameter.tokens(name: "filename", value: value, isLast: true) == tokens)
    }

    @Test func longValuesUseNumberedContinuationsThatDecodeBack() throws {
        let value = String(repeating: "Überweisungsbestätigung ", count: 6) + "März.pdf"
        let tokens = MIMEParameter.tokens(name: "filename", value: value, isLast: true)
        #expect(tokens.count > 3)
        #expect(tokens[0].hasPrefix("filename*0*=utf-8''"))
        for (index, token) in tokens.enumerated() {
            #expect(token.utf8.count <= 73)
            if index > 0 { #expect(token.hasPrefix("filename*\(index)*=")) }
            #expect(token.hasSuffix(";") == (index < tokens.count - 1))
        }
        // Concatenate the segments and percent-decode: RFC 2231 §4.1.
        let joined = tokens.enumerated().map { index, token in
            var segment = String(token.drop { $0 != "=" }.dropFirst())
            if index == 0 { segment = String(segment.dropFirst("utf-8''".count)) }
            return segment.hasSuffix(";") ? String(segment.dropLast()) : segment
        }.joined()
        #expect(joined.removingPercentEncoding == value)
        // No segment splits a UTF-8 sequence.
        for token in tokens {
            let segment = String(token.drop { $0 != "=" }.dropFirst()).replacingOccurrences(of: "utf-8''", with: "")
            #expect(segment.replacingOccurrences(of: ";", with: "").removingPercentEncoding != nil)
        }
    }

    @Test func longASCIIValuesAlsoFold() {
        let value = String(repeating: "a", count: 150) + ".txt"
        let tokens = MIMEParameter.tokens(name: "name", value: value, isLast: false)
        #expect(tokens.count > 1)
        #expect(tokens.allSatisfy { $0.hasSuffix(";") && $0.utf8.count <= 73 })
    }
}
