import SidecarCore
import SidecarMessage

extension SidecarError {
    /// The composer's refusal of a draft, on the wire: the one place composition errors
    /// become `SidecarError`s, the draft field named by its JSON path in `send`'s params.
    init(_ error: CompositionError) {
        self.init(
            code: error.code, message: error.message, retryable: error.retryable,
            field: error.field.map(Self.paramsPath))
    }

    /// The JSON path of `field` in a `send` request (`params.attachments[1].filename`).
    static func paramsPath(_ field: DraftField) -> String {
        switch field {
        case .from: "params.from"
        case .replyTo: "params.reply_to"
        case .to(let index): entryPath("params.to", index)
        case .cc(let index): entryPath("params.cc", index)
        case .bcc(let index): entryPath("params.bcc", index)
        case .subject: "params.subject"
        case .text: "params.text"
        case .html: "params.html"
        case .headers: "params.headers"
        // The index-th entry of the array, or the index-th member of the object form.
        case .header(let index, .name): "params.headers[\(index)].name"
        case .header(let index, .value): "params.headers[\(index)].value"
        case .attachments: "params.attachments"
        case .attachment(let index, nil): "params.attachments[\(index)]"
        case .attachment(let index, .filename): "params.attachments[\(index)].filename"
        case .attachment(let index, .contentType): "params.attachments[\(index)].content_type"
        case .attachment(let index, .contentID): "params.attachments[\(index)].content_id"
        case .attachment(let index, .contentBase64): "params.attachments[\(index)].content_base64"
        case .attachment(let index, .url): "params.attachments[\(index)].url"
        }
    }

    private static func entryPath(_ list: String, _ index: Int?) -> String {
        index.map { "\(list)[\($0)]" } ?? list
    }
}
