/// A send request's message, as the protocol layer hands it to ``MessageComposer``.
///
/// Strings are taken as the author wrote them; the composer validates everything. A
/// ``CompositionError`` names the field it is about as a ``DraftField``.
public struct MessageDraft: Sendable {
    /// `params.from`: one address, overriding the credential's default From.
    public var from: String?
    /// `params.to`, `params.cc`, `params.bcc`: each string is one address or a
    /// comma-separated list (a wire string becomes a one-element array).
    public var to: [String]
    public var cc: [String]
    public var bcc: [String]
    /// Which of `to`, `cc`, `bcc` were arrays on the wire: an error about one of their
    /// entries names it by its 0-based index (`.to(index: 1)`), else the list (`.to(index: nil)`).
    public var arrayAddressFields: Set<AddressField> = []
    /// `params.reply_to`: one address.
    public var replyTo: String?
    /// `params.subject`.
    public var subject: String?
    /// `params.body_format`: which body is sent.
    public var bodyFormat: BodyFormat
    /// `params.text`: the text body; with `html` format, the plain alternative (derived
    /// from the HTML when absent) or the fallback when `html` is empty.
    public var text: String?
    /// `params.html`.
    public var html: String?
    /// `params.priority`; nil writes no priority headers.
    public var priority: MessagePriority?
    /// `params.headers`, in order.
    public var headers: [CustomHeader]
    /// `params.attachments`, in order.
    public var attachments: [AttachmentDraft]

    public init(
        from: String? = nil,
        to: [String] = [],
        cc: [String] = [],
        bcc: [String] = [],
        replyTo: String? = nil,
        subject: String? = nil,
        bodyFormat: BodyFormat = .text,
        text: String? = nil,
        html: String? = nil,
        priority: MessagePriority? = nil,
        headers: [CustomHeader] = [],
        attachments: [AttachmentDraft] = [],
        arrayAddressFields: Set<AddressField> = []
    ) {
        self.arrayAddressFields = arrayAddressFields
        self.from = from
        self.to = to
        self.cc = cc
        self.bcc = bcc
        self.replyTo = replyTo
        self.subject = subject
        self.bodyFormat = bodyFormat
        self.text = text
        self.html = html
        self.priority = priority
        self.headers = headers
        self.attachments = attachments
    }
}

/// A recipient field of the draft.
public enum AddressField: String, Sendable, Hashable {
    case to, cc, bcc
}

/// `params.body_format`.
public enum BodyFormat: String, Sendable, Hashable, CaseIterable {
    case text
    case html
}
