import Logging
import Synchronization

/// A LogHandler that keeps every record (message and metadata, rendered as text), for
/// checking what reaches logs.
public final class LogCapture: Sendable {
    public init() {}

    private let lines = Mutex<[String]>([])

    public var records: [String] { lines.withLock { $0 } }
    public var text: String { records.joined(separator: "\n") }

    public func append(_ line: String) { lines.withLock { $0.append(line) } }

    public func logger(level: Logger.Level = .trace, label: String = "smtp-test") -> Logger {
        var logger = Logger(label: label) { _ in CapturingLogHandler(capture: self) }
        logger.logLevel = level
        return logger
    }
}

public struct CapturingLogHandler: LogHandler {
    public let capture: LogCapture
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    public init(capture: LogCapture) {
        self.capture = capture
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let rendered = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        capture.append("\(event.level) \(event.message) \(rendered)")
    }
}
