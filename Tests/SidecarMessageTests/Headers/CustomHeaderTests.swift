import SidecarMessage
import Testing

@Suite struct CustomHeaderTests {
    @Test(arguments: ["X-Campaign", "List-Unsubscribe", "x", "X_Under.score!#$%&'*+-^`|~", String(repeating: "H", count: 76)])
    func acceptsFieldNames(name: String) {
        #expect(CustomHeader.isValidName(name))
    }

    @Test(arguments: ["", "X Campaign", "X:Campaign", "X-Ümlaut", "X-Tab\t", String(repeating: "H", count: 77), "X-\u{7F}"])
    func refusesInvalidFieldNames(name: String) {
        #expect(!CustomHeader.isValidName(name))
    }

    @Test func reservedNamesMatchTheProductDocumentation() {
        #expect(CustomHeader.reservedNames == [
            "from", "sender", "to", "cc", "bcc", "reply-to", "return-path", "message-id", "in-reply-to", "references",
            "date", "content-type", "content-transfer-encoding", "mime-version", "dkim-signature", "received",
            "authentication-results", "x-original-to", "delivered-to", "__proto__", "constructor", "prototype",
        ])
        #expect(CustomHeader.isReserved("DKIM-Signature"))
        #expect(CustomHeader.isReserved("__PROTO__"))
        #expect(!CustomHeader.isReserved("X-From"))
    }
}
