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
package struct JournaldLogHandler: LogHandler {
    package let label: String
    /// `SYSLOG_IDENTIFIER=` of every entry.
    package var identifier: String
    package var metadata: Logger.Metadata = [:]
    package var metadataProvider: Logger.MetadataProvider?
    package var logLevel: Logger.Level = .info
    /// Whether the journal socket existed when the handler was made. libsystemd drops
    /// entries silently (returns success) when it does not, so that is checked here.
    package let journalAvailable: Bool

    package init(
        label: String,
        identifier: String = SidecarLogging.defaultIdentifier,
        metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider
    ) {
        self.label = label
        self.identifier = identifier
        self.metadataProvider = metadataProvider
        self.journalAvailable = JournalWriter.journalSocketExists()
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
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
