/// Where in a ``MessageDraft`` a ``CompositionError`` is: the composer's own name for a
/// field, not a path in any wire format. Whoever takes drafts from a request maps it to
/// that request's names (the mail engine to the JSON path of `send`'s params).
public enum DraftField: Sendable, Hashable, CustomStringConvertible {
    case from
    case replyTo
    /// A recipient list; `index` is the entry when the list was given as an array
    /// (``MessageDraft/arrayAddressFields``), nil when it was one comma-separated string.
    case to(index: Int?)
    case cc(index: Int?)
    case bcc(index: Int?)
    case subject
    case text
    case html
    /// The custom headers as a whole.
    case headers
    /// The `index`-th custom header's name or value.
    case header(index: Int, HeaderPart)
    /// The attachments as a whole.
    case attachments
    /// The `index`-th attachment, one of its parts, or (`part` nil) the whole of it.
    case attachment(index: Int, AttachmentPart?)

    public enum HeaderPart: Sendable, Hashable {
        case name
        case value
    }

    public enum AttachmentPart: Sendable, Hashable {
        case filename
        case contentType
        case contentID
        case contentBase64
        case url
    }

    /// The field as the composer's messages name it to a workflow's author: `to[2]`,
    /// `reply_to`, `attachments[1].content_id`.
    public var description: String {
        switch self {
        case .from: "from"
        case .replyTo: "reply_to"
        case .to(let index): Self.entry("to", index)
        case .cc(let index): Self.entry("cc", index)
        case .bcc(let index): Self.entry("bcc", index)
        case .subject: "subject"
        case .text: "text"
        case .html: "html"
        case .headers: "headers"
        case .header(let index, .name): "headers[\(index)].name"
        case .header(let index, .value): "headers[\(index)].value"
        case .attachments: "attachments"
        case .attachment(let index, nil): "attachments[\(index)]"
        case .attachment(let index, .filename): "attachments[\(index)].filename"
        case .attachment(let index, .contentType): "attachments[\(index)].content_type"
        case .attachment(let index, .contentID): "attachments[\(index)].content_id"
        case .attachment(let index, .contentBase64): "attachments[\(index)].content_base64"
        case .attachment(let index, .url): "attachments[\(index)].url"
        }
    }

    private static func entry(_ name: String, _ index: Int?) -> String {
        index.map { "\(name)[\($0)]" } ?? name
    }
}
