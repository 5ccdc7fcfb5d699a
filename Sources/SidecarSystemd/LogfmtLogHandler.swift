import Logging

/// A swift-log `LogHandler` that writes one logfmt line per entry to stderr: the fallback
/// when there is no journal (started by hand, in a container). The format is
/// ``LogRecord/logfmtLine(timestamp:)``; merging and flattening are ``LogRecord``'s.
package struct LogfmtLogHandler: LogHandler {
    package let label: String
    package var metadata: Logger.Metadata = [:]
    package var metadataProvider: Logger.MetadataProvider?
    package var logLevel: Logger.Level = .info

    package init(label: String, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        let record = LogRecord(
            event: event,
            label: label,
            identifier: "",
            handlerMetadata: metadata,
            metadataProvider: metadataProvider
        )
        JournalWriter.writeToStandardError(record.logfmtLine(timestamp: LogRecord.now()))
    }
}
