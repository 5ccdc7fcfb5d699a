import SidecarCore

/// Why ``MessageComposer/compose(_:defaultFrom:)`` refused a draft: the error's code, a
/// message written for the author of a workflow (what is wrong, where, and what to do),
/// and the ``DraftField`` it is about. The composer knows no wire protocol: whoever takes
/// drafts from requests maps these to its own errors (the mail engine to `SidecarError`,
/// with the field's JSON path).
public struct CompositionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The stable code, one of the message codes (`ErrorCode+Message.swift`).
    public let code: ErrorCode
    /// Safe to show to the end user; names fields as the author wrote them.
    public let message: String
    /// The field the error is about, when there is one (a message too large has none).
    public let field: DraftField?

    public init(code: ErrorCode, message: String, field: DraftField? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }

    /// Never: the same draft fails the same way.
    public var retryable: Bool { false }

    public var description: String {
        var text = "\(code.rawValue): \(message)"
        if let field { text += " [field \(field)]" }
        return text
    }
}
