import SidecarCore

extension MessageComposer {
    /// The bodies to send, after applying `body_format`.
    struct ResolvedBodies {
        /// The text/plain body (given or derived); with no HTML, the whole body.
        var text: String
        /// The HTML body, when one is sent.
        var html: String?
    }

    func resolveBodies(_ draft: MessageDraft) throws(CompositionError) -> ResolvedBodies {
        let text = draft.text ?? ""
        let textBytes = text.utf8.count
        guard textBytes <= limits.maxTextBodyBytes else {
            throw .bodyTooLarge(field: .text, what: "The text body", bytes: textBytes, limit: limits.maxTextBodyBytes)
        }
        switch draft.bodyFormat {
        case .text:
            return ResolvedBodies(text: text, html: nil)
        case .html:
            // An empty HTML body falls back to the text body alone.
            guard let html = draft.html, !html.isEmpty else { return ResolvedBodies(text: text, html: nil) }
            let htmlBytes = html.utf8.count
            guard htmlBytes <= limits.maxHTMLBodyBytes else {
                throw .bodyTooLarge(field: .html, what: "The HTML body", bytes: htmlBytes, limit: limits.maxHTMLBodyBytes)
            }
            return ResolvedBodies(text: text.isEmpty ? HTMLPlainText.render(html) : text, html: html)
        }
    }

    /// Builds the MIME tree (see ``MessageComposer``).
    func bodyTree(bodies: ResolvedBodies, attachments: [ResolvedAttachment], boundaryStem: String) -> MIMEEntity {
        let inline = bodies.html == nil ? [] : attachments.filter(\.isInline)
        let attached = bodies.html == nil ? attachments : attachments.filter { !$0.isInline }

        var body: MIMEEntity
        if let html = bodies.html {
            var htmlPart = Self.textPart(html, subtype: "html", ensuringFinalLineBreak: false)
            if !inline.isEmpty {
                htmlPart = Self.multipart(
                    "related", boundary: "=_\(boundaryStem)_r", parts: [htmlPart] + inline.map(\.entity),
                    extraParameters: [("type", "text/html")])
            }
            body = Self.multipart(
                "alternative", boundary: "=_\(boundaryStem)_a",
                parts: [Self.textPart(bodies.text, subtype: "plain", ensuringFinalLineBreak: false), htmlPart])
        } else {
            body = Self.textPart(bodies.text, subtype: "plain", ensuringFinalLineBreak: attached.isEmpty)
        }
        if !attached.isEmpty {
            body = Self.multipart("mixed", boundary: "=_\(boundaryStem)_m", parts: [body] + attached.map(\.entity))
        }
        return body
    }

    /// A text part. In a single-part message the text gets a final line break when it
    /// lacks one, so the message ends with CRLF and every encoding decodes alike.
    static func textPart(_ text: String, subtype: String, ensuringFinalLineBreak: Bool) -> MIMEEntity {
        let content = TextContent(text, ensuringFinalLineBreak: ensuringFinalLineBreak)
        let plan = TextEncodingPlan(content: content)
        let headers =
            HeaderFolder.field("Content-Type", ["text/\(subtype);", "charset=utf-8"])
            + HeaderFolder.field("Content-Transfer-Encoding", [plan.encoding.headerValue])
        return MIMEEntity(headers: headers, body: .text(content, plan.encoding, encodedSize: plan.encodedSize))
    }

    static func multipart(
        _ subtype: String, boundary: String, parts: [MIMEEntity], extraParameters: [(String, String)] = []
    ) -> MIMEEntity {
        var tokens = ["multipart/\(subtype);"]
        for (name, value) in extraParameters {
            tokens += MIMEParameter.tokens(name: name, value: value, isLast: false)
        }
        tokens += MIMEParameter.tokens(name: "boundary", value: boundary, isLast: true)
        return MIMEEntity(
            headers: HeaderFolder.field("Content-Type", tokens), body: .multipart(boundary: boundary, parts: parts))
    }
}
