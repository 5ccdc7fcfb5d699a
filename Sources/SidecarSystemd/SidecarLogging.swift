import Logging

/// Chooses the sidecar's log handler.
///
/// ```swift
/// LoggingSystem.bootstrap { label in
///     var handler = SidecarLogging.makeHandler(label: label, target: config.logTarget)
///     handler.logLevel = config.logLevel
///     return handler
/// }
/// ```
public enum SidecarLogging {
    /// Where log entries go (`log_target` in the configuration).
    public enum Target: String, Sendable, Hashable, CaseIterable {
        /// journald when there is one and the process is not on a terminal, else stderr;
        /// see ``JournalDetection/resolve(_:)``.
        case auto
        /// Native journald entries (``JournaldLogHandler``); stderr if the journal is absent.
        case journald
        /// logfmt lines on stderr (``LogfmtLogHandler``).
        case stderr
    }

    /// Where entries end up once ``Target/auto`` is decided.
    public enum Destination: String, Sendable, Hashable, CaseIterable {
        case journald
        case stderr
    }

    /// The default `SYSLOG_IDENTIFIER`.
    public static let defaultIdentifier = "smtp-sidecar"

    /// A handler for `target`, resolved against ``JournalDetection/current()``.
    public static func makeHandler(
        label: String,
        target: Target,
        identifier: String = defaultIdentifier,
        metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider
    ) -> any LogHandler {
        makeHandler(
            label: label,
            target: target,
            detection: .current(),
            identifier: identifier,
            metadataProvider: metadataProvider
        )
    }

    /// A handler for `target`, resolved against the given facts.
    public static func makeHandler(
        label: String,
        target: Target,
        detection: JournalDetection,
        identifier: String = defaultIdentifier,
        metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider
    ) -> any LogHandler {
        switch detection.resolve(target) {
        case .journald:
            JournaldLogHandler(label: label, identifier: identifier, metadataProvider: metadataProvider)
        case .stderr:
            LogfmtLogHandler(label: label, metadataProvider: metadataProvider)
        }
    }
}
