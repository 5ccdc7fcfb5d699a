import SidecarCore

extension MessageComposer {
    /// An attachment checked and turned into its MIME part.
    struct ResolvedAttachment {
        var entity: MIMEEntity
        var isInline: Bool
    }

    func resolveAttachments(_ attachments: [AttachmentDraft]) throws(CompositionError) -> [ResolvedAttachment] {
        guard attachments.count <= limits.maxAttachments else {
            throw .tooManyAttachments(count: attachments.count, limit: limits.maxAttachments)
        }
        var contentIDs: Set<String> = []
        var resolved: [ResolvedAttachment] = []
        for (index, attachment) in attachments.enumerated() {
            resolved.append(try resolveAttachment(attachment, index: index, contentIDs: &contentIDs))
        }
        return resolved
    }

    private func resolveAttachment(
        _ attachment: AttachmentDraft, index: Int, contentIDs: inout Set<String>
    ) throws(CompositionError) -> ResolvedAttachment {
        let filename = attachment.filename
        try Self.checkNoLineBreaks(
            filename, field: .attachment(index: index, .filename), what: "The filename of attachments[\(index)]")
        guard !filename.trimmingWhitespace().isEmpty else {
            throw .attachmentInvalid(index: index, part: .filename, reason: "the filename is empty. Give the file a name, like report.pdf.")
        }
        guard filename.utf8.count <= limits.maxFilenameBytes else {
            throw .attachmentInvalid(
                index: index, part: .filename,
                reason: "the filename is \(filename.utf8.count) bytes long; at most \(limits.maxFilenameBytes) are allowed.")
        }
        guard !filename.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .attachmentInvalid(index: index, part: .filename, reason: "the filename contains a control character.")
        }

        let mediaType: MediaType
        if let given = attachment.contentType, !given.trimmingWhitespace().isEmpty {
            try Self.checkNoLineBreaks(
                given, field: .attachment(index: index, .contentType),
                what: "The content type of attachments[\(index)]")
            do {
                mediaType = try MediaType(parsing: given)
            } catch {
                throw .attachmentInvalid(index: index, part: .contentType, reason: "the content type \"\(given)\" \(error.reason).")
            }
        } else {
            mediaType = MediaType.guess(forFilename: filename)
        }

        var contentID: String?
        if let given = attachment.contentID, !given.isEmpty {
            contentID = try checkedContentID(given, index: index)
            guard contentIDs.insert(contentID ?? "").inserted else {
                throw .attachmentInvalid(
                    index: index, part: .contentID, reason: "the content_id \"\(given)\" is used by another attachment.")
            }
        }
        if attachment.isInline, contentID == nil {
            throw .attachmentInvalid(
                index: index, part: .contentID,
                reason: "an inline attachment needs a content_id, which the HTML refers to as cid:<content_id>.")
        }

        let source = try checkedSource(attachment.content, index: index, filename: filename)

        var typeTokens = ["\(mediaType.essence);"]
        for parameter in mediaType.parameters where !Self.isFilenameParameter(parameter.name) {
            typeTokens += MIMEParameter.tokens(name: parameter.name, value: parameter.value, isLast: false)
        }
        typeTokens += MIMEParameter.tokens(name: "name", value: filename, isLast: true)
        let disposition = attachment.isInline ? "inline" : "attachment"
        var headers =
            HeaderFolder.field("Content-Type", typeTokens)
            + HeaderFolder.field("Content-Transfer-Encoding", [TransferEncoding.base64.headerValue])
            + HeaderFolder.field(
                "Content-Disposition", ["\(disposition);"] + MIMEParameter.tokens(name: "filename", value: filename, isLast: true))
        if let contentID {
            headers += HeaderFolder.field("Content-ID", ["<\(contentID)>"])
        }
        let entity = MIMEEntity(headers: headers, body: .attachment(.init(index: index, source: source)))
        return ResolvedAttachment(entity: entity, isInline: attachment.isInline)
    }

    private func checkedSource(
        _ content: AttachmentContent, index: Int, filename: String
    ) throws(CompositionError) -> any AttachmentSource {
        let source: any AttachmentSource
        switch content {
        case .base64(let text):
            do {
                source = try Base64TextSource(validating: text)
            } catch {
                throw .attachmentInvalidBase64(index: index, filename: filename, failure: error)
            }
        case .bytes(let bytes):
            source = ByteArraySource(bytes: bytes)
        case .source(let given):
            source = given
        }
        if let count = source.byteCount, count > limits.maxAttachmentBytes {
            throw .attachmentTooLarge(index: index, limit: limits.maxAttachmentBytes)
        }
        return source
    }

    /// A Content-ID without its angle brackets: dot-atom text with `@` (the msg-id form of
    /// RFC 2392, leniently also without `@`), at most 250 characters.
    private func checkedContentID(_ given: String, index: Int) throws(CompositionError) -> String {
        try Self.checkNoLineBreaks(
            given, field: .attachment(index: index, .contentID), what: "The content_id of attachments[\(index)]")
        var id = given.trimmingWhitespace()
        if id.hasPrefix("<"), id.hasSuffix(">"), id.count >= 2 { id = String(id.dropFirst().dropLast()) }
        let valid =
            !id.isEmpty && id.utf8.count <= 250 && !id.hasPrefix(".") && !id.hasSuffix(".")
            && id.unicodeScalars.allSatisfy { $0.isASCII && (EmailAddress.isAtext($0) || $0 == "." || $0 == "@") }
        guard valid else {
            throw .attachmentInvalid(
                index: index, part: .contentID,
                reason: "the content_id \"\(given)\" may only contain ASCII letters, digits, dots, @ and -_+=, like logo@example.com.")
        }
        return id
    }

    private static func isFilenameParameter(_ name: String) -> Bool {
        name == "name" || name.hasPrefix("name*")
    }
}
