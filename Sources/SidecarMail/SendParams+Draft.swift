import SidecarMessage
import SidecarProtocol
import SidecarSMTP

extension SendParams {
    /// The message part of the request, as the composer takes it.
    var draft: MessageDraft {
        MessageDraft(
            from: from, to: to?.entries ?? [], cc: cc?.entries ?? [], bcc: bcc?.entries ?? [], replyTo: replyTo,
            subject: subject, bodyFormat: bodyFormat == .html ? .html : .text, text: text, html: html,
            priority: priority.map { MessagePriority(rawValue: $0.rawValue) ?? .normal },
            headers: (headers?.fields ?? []).map { CustomHeader(name: $0.name, value: $0.value) },
            attachments: (attachments ?? []).map(\.draft), arrayAddressFields: arrayAddressFields)
    }

    /// The recipient fields given as arrays, whose entries errors name by index.
    private var arrayAddressFields: Set<AddressField> {
        var fields: Set<AddressField> = []
        if to?.isArray == true { fields.insert(.to) }
        if cc?.isArray == true { fields.insert(.cc) }
        if bcc?.isArray == true { fields.insert(.bcc) }
        return fields
    }

    /// The DSN request, in the SMTP client's terms.
    var smtpOptions: SMTPSendOptions {
        guard let dsn else { return SMTPSendOptions() }
        return SMTPSendOptions(dsn: SMTPDSNOptions(
            // NEVER is the empty set; it excludes the others (RFC 3461 §4.1).
            notify: dsn.notify.map { notify in
                notify.contains(.never) ? [] : Set(notify.compactMap(Self.notify))
            },
            ret: dsn.ret.map { $0 == .full ? .full : .headers },
            envelopeID: dsn.envelopeID))
    }

    private static func notify(_ value: DSN.Notify) -> SMTPDSNOptions.Notify? {
        switch value {
        case .never: nil
        case .success: .success
        case .failure: .failure
        case .delay: .delay
        }
    }
}

extension AttachmentParams {
    /// A URL attachment has no bytes here: fetching is the policy layer's, and without it
    /// the composer refuses the attachment as having no content.
    var draft: AttachmentDraft {
        AttachmentDraft(
            filename: filename, contentType: contentType, content: .base64(contentBase64 ?? ""), contentID: contentID,
            isInline: contentID != nil)
    }
}
