/// One attachment: its bytes come from `content_base64` or from `url` (exactly one).
public struct AttachmentParams: Sendable, Equatable, Codable {
    public var filename: String
    /// MIME type; guessed from the filename when absent.
    public var contentType: String?
    public var contentBase64: String?
    /// An `http` or `https` URL fetched by the sidecar through its SSRF guard.
    public var url: String?
    /// Makes the attachment an inline part referenced from the HTML as `cid:<content_id>`.
    public var contentID: String?

    public init(
        filename: String, contentType: String? = nil, contentBase64: String? = nil, url: String? = nil,
        contentID: String? = nil
    ) {
        self.filename = filename
        self.contentType = contentType
        self.contentBase64 = contentBase64
        self.url = url
        self.contentID = contentID
    }

    enum CodingKeys: String, CodingKey {
        case filename, url
        case contentType = "content_type"
        case contentBase64 = "content_base64"
        case contentID = "content_id"
    }
}
