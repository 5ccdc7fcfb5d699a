import SidecarSystemd
import SidecarTestSupport
import Testing

@Suite struct JournalFieldNameTests {
    @Test(arguments: [
        ("smtp_host", "SMTP_HOST"),
        ("request_id", "REQUEST_ID"),
        ("SMTP_HOST", "SMTP_HOST"),
        ("smtp.host", "SMTP_HOST"),
        ("smtp-host", "SMTP_HOST"),
        ("weird key.name-42", "WEIRD_KEY_NAME_42"),
        ("smtpHost", "SMTPHOST"),
        ("_private", "PRIVATE"),
        ("__dunder__", "DUNDER__"),
        ("2fa", "META_2FA"),
        ("_9lives", "META_9LIVES"),
        ("", "META_"),
        ("___", "META_"),
        ("größe", "GR__E"),
        ("message", "META_MESSAGE"),
        ("priority", "META_PRIORITY"),
        ("code_line", "META_CODE_LINE"),
        ("syslog_identifier", "META_SYSLOG_IDENTIFIER"),
        ("logger_label", "META_LOGGER_LABEL"),
        ("message_id", "META_MESSAGE_ID"),
        ("messages", "MESSAGES"),
        ("errno", "ERRNO"),
    ])
    func mapping(key: String, expected: String) {
        #expect(JournalFieldName.mapping(key) == expected)
        #expect(JournalFieldName.isValid(JournalFieldName.mapping(key)))
    }

    @Test func longNamesAreCutTo64Characters() {
        let key = String(repeating: "a", count: 100)
        #expect(JournalFieldName.mapping(key) == String(repeating: "A", count: 64))
        let digitFirst = "1" + String(repeating: "b", count: 80)
        let mapped = JournalFieldName.mapping(digitFirst)
        #expect(mapped.count == 64)
        #expect(mapped.hasPrefix("META_1BBB"))
    }

    @Test(arguments: [
        ("SMTP_HOST", true), ("A", true), ("A1_", true), ("_PID", false), ("1A", false), ("", false),
        ("smtp_host", false), ("SMTP-HOST", false), (String(repeating: "A", count: 65), false),
        (String(repeating: "A", count: 64), true),
    ])
    func validity(name: String, valid: Bool) {
        #expect(JournalFieldName.isValid(name) == valid)
    }

    /// The mapping works on UTF-8 bytes; this is the rule as written (one `_` per Unicode
    /// scalar, then strip, prefix, cut, reserve), to compare it with on random keys.
    static func referenceMapping(_ key: String) -> String {
        var name = String(String.UnicodeScalarView(key.unicodeScalars.map { scalar -> Unicode.Scalar in
            switch scalar {
            case "a"..."z": Unicode.Scalar(UInt8(scalar.value - 0x20))
            case "A"..."Z", "0"..."9", "_": scalar
            default: "_"
            }
        }))
        name = String(name.drop(while: { $0 == "_" }))
        if name.isEmpty || name.first!.isNumber { name = JournalFieldName.prefix + name }
        name = String(name.prefix(JournalFieldName.maxLength))
        if JournalFieldName.reserved.contains(name) {
            name = String((JournalFieldName.prefix + name).prefix(JournalFieldName.maxLength))
        }
        return name
    }

    @Test func mappingFollowsTheRuleOnRandomKeys() {
        let pieces = ["a", "z", "A", "Q", "0", "7", "_", ".", "-", " ", "=", "é", "e\u{301}", "ß", "🙂", "\u{0}", "message",
                      "code_line", "__", "9"]
        var random = SplitMix64(seed: 5)
        for _ in 0..<5000 {
            let length = Int.random(in: 0...40, using: &random)
            let key = (0..<length).map { _ in pieces[Int.random(in: 0..<pieces.count, using: &random)] }.joined()
            #expect(JournalFieldName.mapping(key) == Self.referenceMapping(key), "key \(key.debugDescription)")
        }
    }

    @Test func everyMappedNameIsValidForArbitraryKeys() {
        let keys = ["", " ", "=", "a=b", "\n", "é", "🙂", "0", "_", "-x", "x" + String(repeating: "-", count: 70), "MESSAGE"]
        for key in keys {
            #expect(JournalFieldName.isValid(JournalFieldName.mapping(key)), "key \(key.debugDescription)")
        }
    }
}
