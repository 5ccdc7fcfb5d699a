import Logging

/// A swift-log `LogHandler` that writes native journald entries (`sd_journal_sendv`).
///
/// Each entry carries `MESSAGE`, `PRIORITY`, `SYSLOG_IDENTIFIER`, `LOGGER_LABEL`,
/// `CODE_FILE`, `CODE_LINE`, `CODE_FUNC` and one field per metadata leaf (see
/// ``LogRecord`` for merging and flattening, ``JournalFieldName`` for the names), so
/// `journalctl SMTP_HOST=mx.example.com` finds what was logged with `smtp_host`.
///
/// When there is no journal to write to (no socket when the handler was made, or a send
/// that fails) the entry is written to stderr as a logfmt line instead, so nothing is
/// lost silently. Use ``SidecarLogging/makeHandler(label:target:identifier:metadataProvider:)``
/// to choose between this and ``LogfmtLogHandler`` by environment.
public struct JournaldLogHandler: LogHandler {
    public let label: String
    /// `SYSLOG_IDENTIFIER=` of every entry.
    public var identifier: String
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info
    /// Whether the journal socket existed when the handler was made. libsystemd drops
    /// entries silently (returns success) when it does not, so that is checked here.
    public let journalAvailable: Bool

    public init(
        label: String,
        identifier: String = SidecarLogging.defaultIdentifier,
        metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider
    ) {
        self.label = label
        self.identifier = identifier
        self.metadataProvider = metadataProvider
        self.journalAvailable = JournalWriter.journalSocketExists()
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let record = LogRecord(
            event: event,
            label: label,
            identifier: identifier,
            handlerMetadata: metadata,
            metadataProvider: metadataProvider
        )
        if journalAvailable && JournalWriter.send(record.journalFields) >= 0 { return }
        JournalWriter.writeToStandardError(record.logfmtLine(timestamp: LogRecord.now()))
    }
}
