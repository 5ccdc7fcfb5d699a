/// One node of the composed MIME tree: its header block and its body.
struct MIMEEntity: Sendable {
    enum Body: Sendable {
        /// A text part, normalised and encoded while written.
        case text(TextContent, TransferEncoding, encodedSize: Int)
        /// An attachment, base64-encoded while written.
        case attachment(AttachmentPart)
        /// `multipart/*` children separated by `boundary`.
        case multipart(boundary: String, parts: [MIMEEntity])
    }

    struct AttachmentPart: Sendable {
        /// Index in the draft's attachments, for errors raised while streaming.
        let index: Int
        let source: any AttachmentSource
    }

    /// Header fields, each ending in CRLF, without the blank line that ends the block.
    let headers: [UInt8]
    let body: Body

    /// The entity's exact size in bytes (headers, blank line, body), nil when an attachment's
    /// size is not known in advance.
    var byteCount: Int? {
        guard let bodySize = body.byteCount else { return nil }
        return headers.count + 2 + bodySize
    }

    /// Whether the body's last bytes are CRLF (so a single-part message needs no extra
    /// line break at its end).
    var endsWithLineBreak: Bool {
        switch body {
        case .text(_, let encoding, let size): size == 0 || encoding != .base64
        case .attachment, .multipart: false
        }
    }
}

extension MIMEEntity.Body {
    var byteCount: Int? {
        switch self {
        case .text(_, _, let size):
            return size
        case .attachment(let part):
            return part.source.byteCount.map(Base64Encoder.encodedSize(of:))
        case .multipart(let boundary, let parts):
            // Each part: "--b" CRLF part CRLF; then "--b--".
            let delimiter = boundary.utf8.count + 2
            var total = delimiter + 2
            for part in parts {
                guard let size = part.byteCount else { return nil }
                total += delimiter + 2 + size + 2
            }
            return total
        }
    }
}
