import Logging

/// A swift-log `LogHandler` that writes one logfmt line per entry to stderr: the fallback
/// when there is no journal (started by hand, in a container). The format is
/// ``LogRecord/logfmtLine(timestamp:)``; merging and flattening are ``LogRecord``'s.
public struct LogfmtLogHandler: LogHandler {
    public let label: String
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info

    public init(label: String, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
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
