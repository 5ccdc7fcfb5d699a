/// One entry of `params.attachments`.
public struct AttachmentDraft: Sendable {
    /// `filename`: shown to the recipient; non-ASCII names are encoded per RFC 2231.
    public var filename: String
    /// `content_type`; guessed from the filename's extension when nil.
    public var contentType: String?
    /// `content_base64`, or bytes from another source (a URL fetch).
    public var content: AttachmentContent
    /// `content_id`: the id an HTML body refers to as `cid:<id>`.
    public var contentID: String?
    /// `inline`: shown in the HTML body rather than as an attachment; needs `contentID`.
    public var isInline: Bool

    public init(
        filename: String,
        contentType: String? = nil,
        content: AttachmentContent,
        contentID: String? = nil,
        isInline: Bool = false
    ) {
        self.filename = filename
        self.contentType = contentType
        self.content = content
        self.contentID = contentID
        self.isInline = isInline
    }
}

/// Where an attachment's bytes come from.
public enum AttachmentContent: Sendable {
    /// Base64 text as received on the wire. Validated by ``MessageComposer/compose(_:defaultFrom:)``
    /// and decoded again while writing, so the decoded bytes are never held whole.
    case base64(String)
    /// Bytes already in memory.
    case bytes([UInt8])
    /// Bytes produced while the message is written, e.g. by a URL fetch.
    case source(any AttachmentSource)
}
