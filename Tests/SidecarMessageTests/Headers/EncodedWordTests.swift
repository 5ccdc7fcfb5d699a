import Foundation
@testable import SidecarMessage
import Testing

@Suite struct EncodedWordTests {
    /// Decodes one `=?utf-8?B?...?=` word to its bytes.
    private func payload(_ word: String) throws -> [UInt8] {
        #expect(word.hasPrefix("=?utf-8?B?") && word.hasSuffix("?="))
        let base64 = word.dropFirst("=?utf-8?B?".count).dropLast(2)
        return Array(try #require(Data(base64Encoded: String(base64))))
    }

    @Test(arguments: [
        "Grüße aus München",
        String(repeating: "ü", count: 200),
        String(repeating: "日本語", count: 40),
        String(repeating: "👩‍👩‍👧‍👦", count: 12),
        "mixed ascii, emoji 🎉 and Ελληνικά " + String(repeating: "x", count: 100),
        "\t tabs and \u{1} controls ",
    ])
    func wordsAreShortAndSplitOnlyBetweenCharacters(text: String) throws {
        let words = EncodedWord.encode(text)
        var decoded = ""
        for word in words {
            #expect(word.utf8.count <= 75)
            // Every word holds whole UTF-8 sequences: it decodes on its own.
            let bytes = try payload(word)
            let piece = try #require(String(validating: bytes, as: UTF8.self))
            decoded += piece
        }
        #expect(decoded == text)
    }

    @Test func keepsGraphemeClustersTogetherWhenTheyFit() throws {
        let family = "👩‍👩‍👧‍👦"  // 25 bytes: fits in a word of 45
        let words = EncodedWord.encode(String(repeating: family, count: 5))
        for word in words {
            let piece = try #require(String(validating: try payload(word), as: UTF8.self))
            #expect(piece.count == piece.unicodeScalars.count / 7)
        }
    }

    @Test func theFirstWordCanBeShorter() {
        let words = EncodedWord.encode(String(repeating: "é", count: 100), firstMaxLength: 40)
        #expect(words[0].utf8.count <= 40)
        #expect(words.dropFirst().allSatisfy { $0.utf8.count <= 75 })
        #expect(words.dropFirst().contains { $0.utf8.count > 70 })
    }
}

@Suite struct UnstructuredTextTests {
    @Test(arguments: [
        ("Plain subject", ["Plain", "subject"]),
        ("a-b_c.d!", ["a-b_c.d!"]),
    ])
    func plainASCIIIsWrittenAsIs(text: String, tokens: [String]) {
        #expect(UnstructuredText.tokens(text, fieldName: "Subject") == tokens)
    }

    @Test(arguments: [
        "Grüße",
        "two  spaces",
        " leading space",
        "trailing space ",
        "looks =?utf-8?B?like?= an encoded word",
        "tab\there",
        "bell\u{7}",
        String(repeating: "x", count: 995),
    ])
    func anythingElseIsEncoded(text: String) {
        let tokens = UnstructuredText.tokens(text, fieldName: "Subject")
        #expect(tokens.allSatisfy { $0.hasPrefix("=?utf-8?B?") })
    }

    @Test func theFirstEncodedWordFitsBesideTheFieldName() {
        let tokens = UnstructuredText.tokens(String(repeating: "ö", count: 80), fieldName: "Subject")
        #expect("Subject: ".utf8.count + tokens[0].utf8.count <= 76)
    }
}
