import Logging

/// One log event, resolved: the message rendered, the metadata merged and flattened.
/// Both outputs are pure functions of it, so they are tested without a journal:
/// ``journalFields`` for journald, ``logfmtLine(timestamp:)`` for stderr.
///
/// **Merging.** Handler metadata (`logger[metadataKey:]`), then the metadata provider's,
/// then the call's own: a later source wins for the same key, as in swift-log's
/// `StreamLogHandler`. An error passed with the event adds `error.message` (its
/// description) and `error.type`.
///
/// **Flattening.** Nested metadata becomes one field per leaf, the key path kept in
/// ``Field/path``: `["smtp": ["host": "mx"]]` is the field `smtp`,`host` = `mx`, sent to
/// journald as `SMTP_HOST=mx` and written in logfmt as `smtp.host=mx`. An array becomes
/// one field whose value joins its elements with `,` (`["a", "b"]` → `a,b`); an element
/// that is itself a dictionary or array is written inline as `{key=value,...}` or
/// `[a,b]`. An empty dictionary adds no field.
///
/// **Secrets.** Values are rendered through `description` only, never reflection, so a
/// ``SidecarCore/Secret`` (whose description is redacted) stays redacted whether it is
/// passed as `.stringConvertible(secret)` or interpolated into the message.
public struct LogRecord: Sendable, Hashable {
    /// One flattened metadata entry.
    public struct Field: Sendable, Hashable {
        /// The key path from the top-level key down to the leaf, as logged.
        public var path: [String]
        public var value: String

        public init(path: [String], value: String) {
            self.path = path
            self.value = value
        }
    }

    public var level: Logger.Level
    public var message: String
    /// The `Logger`'s label.
    public var label: String
    /// The syslog identifier (`SYSLOG_IDENTIFIER=`), usually the program name.
    public var identifier: String
    public var file: String
    public var function: String
    public var line: UInt
    /// The merged, flattened metadata, sorted by key path.
    public var fields: [Field]

    public init(
        level: Logger.Level,
        message: String,
        label: String,
        identifier: String,
        file: String,
        function: String,
        line: UInt,
        fields: [Field]
    ) {
        self.level = level
        self.message = message
        self.label = label
        self.identifier = identifier
        self.file = file
        self.function = function
        self.line = line
        self.fields = fields
    }

    /// Resolves an event as a handler with this label, identifier, metadata and provider sees it.
    public init(
        event: LogEvent,
        label: String,
        identifier: String,
        handlerMetadata: Logger.Metadata,
        metadataProvider: Logger.MetadataProvider?
    ) {
        let merged = Self.merge(
            handler: handlerMetadata,
            provided: metadataProvider?.get() ?? [:],
            call: event.metadata ?? [:],
            error: event.error
        )
        self.init(
            level: event.level,
            message: event.message.description,
            label: label,
            identifier: identifier,
            file: event.file,
            function: event.function,
            line: event.line,
            fields: Self.flatten(merged)
        )
    }

    /// Handler < provider < call: a later source wins for the same key.
    public static func merge(
        handler: Logger.Metadata,
        provided: Logger.Metadata,
        call: Logger.Metadata,
        error: (any Error)? = nil
    ) -> Logger.Metadata {
        var merged = handler
        merged.merge(provided) { _, provided in provided }
        merged.merge(call) { _, call in call }
        if let error {
            merged["error.message"] = .string("\(error)")
            merged["error.type"] = .string(String(reflecting: type(of: error)))
        }
        return merged
    }

    /// One field per leaf, sorted by key path (see the type's documentation).
    public static func flatten(_ metadata: Logger.Metadata) -> [Field] {
        var fields: [Field] = []
        appendFlattened(metadata, under: [], to: &fields)
        fields.sort { $0.path.lexicographicallyPrecedes($1.path) }
        return fields
    }

    private static func appendFlattened(_ metadata: Logger.Metadata, under prefix: [String], to fields: inout [Field]) {
        for (key, value) in metadata {
            let path = prefix + [key]
            switch value {
            case .dictionary(let nested):
                appendFlattened(nested, under: path, to: &fields)
            case .string, .stringConvertible, .array:
                fields.append(Field(path: path, value: render(value, nested: false)))
            }
        }
    }

    /// A value as one string, through `description` only.
    static func render(_ value: Logger.MetadataValue, nested: Bool) -> String {
        switch value {
        case .string(let string):
            return string
        case .stringConvertible(let convertible):
            return convertible.description
        case .array(let elements):
            let joined = elements.map { render($0, nested: true) }.joined(separator: ",")
            return nested ? "[\(joined)]" : joined
        case .dictionary(let dictionary):
            let entries = dictionary.sorted { $0.key < $1.key }.map { "\($0.key)=\(render($0.value, nested: true))" }
            return "{\(entries.joined(separator: ","))}"
        }
    }
}
