import Logging
import SidecarCore
import SidecarSystemd
import SidecarTestSupport
import Testing

@Suite struct LogfmtTests {
    @Test(arguments: [
        ("plain", "plain"),
        ("mx.example.com:587", "mx.example.com:587"),
        ("", "\"\""),
        ("two words", "\"two words\""),
        ("a=b", "\"a=b\""),
        ("say \"hi\"", "\"say \\\"hi\\\"\""),
        ("C:\\path", "\"C:\\\\path\""),
        ("line one\nline two", "\"line one\\nline two\""),
        ("cr\rlf", "\"cr\\rlf\""),
        ("tab\there", "\"tab\\there\""),
        ("bell\u{07}", "\"bell\\u0007\""),
        ("del\u{7F}", "\"del\\u007F\""),
        ("ls\u{2028}ps\u{2029}", "\"ls\\u2028ps\\u2029\""),
        ("nel\u{85}", "\"nel\\u0085\""),
        ("héllo→🙂", "héllo→🙂"),
    ])
    func values(raw: String, rendered: String) {
        #expect(LogRecord.logfmtValue(raw) == rendered)
    }

    @Test(arguments: [
        ("smtp_host", "smtp_host"), ("smtp.tls.mode", "smtp.tls.mode"), ("a b", "a_b"), ("a=b", "a_b"),
        ("q\"k", "q_k"), ("nl\nk", "nl_k"), ("größe", "gr__e"), ("", "_"),
    ])
    func keys(raw: String, rendered: String) {
        #expect(LogRecord.logfmtKey(raw) == rendered)
    }

    @Test func aLineHasTheEntryThenSortedMetadata() {
        let record = LogRecord(
            level: .notice,
            message: "sent message",
            label: "smtp-sidecar.server",
            identifier: "smtp-sidecar",
            file: "F.swift",
            function: "f()",
            line: 1,
            fields: LogRecord.flatten(["smtp": ["host": "mx.example.com"], "size": "1024", "msg": "shadow"])
        )
        let line = record.logfmtLine(timestamp: .seconds(1_735_787_045) + .microseconds(678_901))
        #expect(line == "ts=2025-01-02T03:04:05.678901Z level=notice logger=smtp-sidecar.server msg=\"sent message\" "
            + "meta_msg=shadow size=1024 smtp.host=mx.example.com")
    }

    @Test func multiLineValuesStayOnOneLine() {
        let record = LogRecord(
            event: LogEvent(level: .error, message: "first\nsecond\r\nthird", metadata: ["body": "a\nb\u{2028}c"],
                            source: nil, file: "F", function: "f", line: 1),
            label: "l", identifier: "i", handlerMetadata: [:], metadataProvider: nil
        )
        let line = record.logfmtLine(timestamp: .zero)
        #expect(!line.contains("\n") && !line.contains("\r") && !line.contains("\u{2028}"))
        #expect(line.contains(#"msg="first\nsecond\r\nthird""#))
        #expect(line.contains(#"body="a\nb\u2028c""#))
    }

    @Test(arguments: [
        (Duration.zero, "1970-01-01T00:00:00.000000Z"),
        (.seconds(951_782_400), "2000-02-29T00:00:00.000000Z"),
        (.seconds(4_102_444_799) + .nanoseconds(999_999_999), "2099-12-31T23:59:59.999999Z"),
    ])
    func timestamps(sinceEpoch: Duration, rendered: String) {
        let record = LogRecord(level: .info, message: "m", label: "l", identifier: "i", file: "", function: "",
                               line: 0, fields: [])
        #expect(record.logfmtLine(timestamp: sinceEpoch).hasPrefix("ts=\(rendered) level=info"))
    }

    @Test func theCurrentTimeIsAfter2024() {
        #expect(LogRecord.now() > .seconds(1_704_067_200))
    }
}
