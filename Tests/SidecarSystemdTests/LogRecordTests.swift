import Logging
import SidecarCore
import SidecarSystemd
import SidecarTestSupport
import Testing

@Suite struct LogRecordTests {
    struct Failure: Error, CustomStringConvertible {
        var description: String { "connection refused by mx.example.com" }
    }

    @Test func nestedMetadataFlattensToOneFieldPerLeaf() {
        let fields = LogRecord.flatten([
            "smtp": ["host": "mx.example.com", "tls": ["mode": "starttls"]],
            "request_id": "r-1",
            "empty": [:],
        ])
        #expect(fields == [
            LogRecord.Field(path: ["request_id"], value: "r-1"),
            LogRecord.Field(path: ["smtp", "host"], value: "mx.example.com"),
            LogRecord.Field(path: ["smtp", "tls", "mode"], value: "starttls"),
        ])
    }

    @Test func arraysJoinWithCommasAndNestedContainersRenderInline() {
        let fields = LogRecord.flatten([
            "recipients": ["a@example.com", "b@example.com"],
            "mixed": ["x", ["k": "v", "a": "b"], ["y", "z"]],
            "none": [],
        ])
        #expect(fields == [
            LogRecord.Field(path: ["mixed"], value: "x,{a=b,k=v},[y,z]"),
            LogRecord.Field(path: ["none"], value: ""),
            LogRecord.Field(path: ["recipients"], value: "a@example.com,b@example.com"),
        ])
    }

    @Test func laterMetadataSourcesWin() {
        let merged = LogRecord.merge(
            handler: ["shared": "handler", "handler_only": "h", "provider_and_handler": "handler"],
            provided: ["shared": "provider", "provider_only": "p", "provider_and_handler": "provider"],
            call: ["shared": "call", "call_only": "c"]
        )
        #expect(merged["shared"] == "call")
        #expect(merged["provider_and_handler"] == "provider")
        #expect(merged["handler_only"] == "h")
        #expect(merged["provider_only"] == "p")
        #expect(merged["call_only"] == "c")
    }

    @Test func anEventsErrorAddsItsMessageAndType() {
        let merged = LogRecord.merge(handler: [:], provided: [:], call: [:], error: Failure())
        #expect(merged["error.message"] == "connection refused by mx.example.com")
        #expect(merged["error.type"]?.description.hasSuffix("Failure") == true)
        let fields = record(LogEvent(level: .error, message: "x", error: Failure(), metadata: nil, source: nil,
                                     file: "F", function: "f", line: 1)).journalFields
        #expect(fields.contains { $0.name == "ERROR_MESSAGE" && $0.value == "connection refused by mx.example.com" })
    }

    @Test(arguments: [
        (Logger.Level.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2),
    ])
    func priorities(level: Logger.Level, priority: Int) {
        #expect(LogRecord.journalPriority(level) == priority)
        let fields = record(event(level: level, message: "m")).journalFields
        #expect(fields.first { $0.name == "PRIORITY" }?.value == String(priority))
    }

    @Test func journalFieldsCarryTheEntryThenTheMappedMetadata() {
        let record = LogRecord(
            event: event(level: .warning, message: "hello\nworld", metadata: ["smtp": ["host": "mx"], "message": "m"]),
            label: "smtp-sidecar.server",
            identifier: "smtp-sidecar",
            handlerMetadata: ["component": "pool"],
            metadataProvider: Logger.MetadataProvider { ["trace_id": "t-1"] }
        )
        let fields = record.journalFields
        #expect(fields.map(\.name) == [
            "MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "LOGGER_LABEL", "CODE_FILE", "CODE_LINE", "CODE_FUNC",
            "COMPONENT", "META_MESSAGE", "SMTP_HOST", "TRACE_ID",
        ])
        #expect(fields.map(\.value) == [
            "hello\nworld", "4", "smtp-sidecar", "smtp-sidecar.server", "Module/File.swift", "42", "send(_:)",
            "pool", "m", "mx", "t-1",
        ])
    }

    @Test func aSecretNeverReachesEitherOutput() {
        let value = "s3cr3t-Value-0123456789"
        let secret = Secret(value)
        let record = LogRecord(
            event: event(
                level: .info,
                message: "AUTH PLAIN with \(secret) and \(String(describing: secret))",
                metadata: ["password": .stringConvertible(secret), "nested": ["token": "\(secret)"],
                           "list": [.stringConvertible(secret)]]
            ),
            label: "l",
            identifier: "i",
            handlerMetadata: ["handler_secret": .stringConvertible(secret)],
            metadataProvider: Logger.MetadataProvider { ["provided_secret": .stringConvertible(secret)] }
        )
        let journal = record.journalFields.map { "\($0.name)=\($0.value)" }.joined(separator: "\n")
        let logfmt = record.logfmtLine(timestamp: .seconds(0))
        for output in [journal, logfmt] {
            #expect(!output.contains(value))
            #expect(output.contains(Secret.redacted))
        }
        #expect(record.journalFields.first { $0.name == "PASSWORD" }?.value == Secret.redacted)
        #expect(record.journalFields.first { $0.name == "NESTED_TOKEN" }?.value == Secret.redacted)
        #expect(record.journalFields.first { $0.name == "PROVIDED_SECRET" }?.value == Secret.redacted)
    }

    private func event(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata? = nil) -> LogEvent {
        LogEvent(level: level, message: message, metadata: metadata, source: nil, file: "Module/File.swift",
                 function: "send(_:)", line: 42)
    }

    private func record(_ event: LogEvent) -> LogRecord {
        LogRecord(event: event, label: "l", identifier: "i", handlerMetadata: [:], metadataProvider: nil)
    }
}
