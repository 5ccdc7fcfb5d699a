import SidecarCore

extension MessageComposer {
    /// From, Reply-To and the recipient lists, parsed and deduplicated.
    struct ResolvedAddresses {
        var from: Mailbox
        var replyTo: Mailbox?
        /// To and Cc as written in the headers, without repeats.
        var to: [Mailbox]
        var cc: [Mailbox]
        var envelope: MessageEnvelope
        var requiresSMTPUTF8: Bool
    }

    func resolveAddresses(_ draft: MessageDraft, defaultFrom: String?) throws(CompositionError) -> ResolvedAddresses {
        let from: Mailbox
        if let given = draft.from, !given.trimmingWhitespace().isEmpty {
            from = try single(given, field: .from)
        } else if let defaultFrom, !defaultFrom.trimmingWhitespace().isEmpty {
            from = try single(defaultFrom, field: .from)
        } else {
            throw .noSender
        }
        var replyTo: Mailbox?
        if let given = draft.replyTo, !given.trimmingWhitespace().isEmpty {
            replyTo = try single(given, field: .replyTo)
        }

        let to = try list(draft.to, field: DraftField.to, indexed: draft.arrayAddressFields.contains(.to))
        let cc = try list(draft.cc, field: DraftField.cc, indexed: draft.arrayAddressFields.contains(.cc))
        let bcc = try list(draft.bcc, field: DraftField.bcc, indexed: draft.arrayAddressFields.contains(.bcc))

        // Each mailbox once, first occurrence wins: To, then Cc, then Bcc.
        var seen: Set<String> = []
        func firstOccurrences(_ mailboxes: [Mailbox]) -> [Mailbox] {
            mailboxes.filter { seen.insert($0.address.deduplicationKey).inserted }
        }
        let uniqueTo = firstOccurrences(to)
        let uniqueCc = firstOccurrences(cc)
        let uniqueBcc = firstOccurrences(bcc)
        let recipients = (uniqueTo + uniqueCc + uniqueBcc).map(\.address)
        guard !recipients.isEmpty else { throw .noRecipients }
        guard recipients.count <= limits.maxRecipients else {
            throw .tooManyRecipients(count: recipients.count, limit: limits.maxRecipients)
        }

        let everyAddress = [from.address] + (replyTo.map { [$0.address] } ?? []) + recipients
        return ResolvedAddresses(
            from: from,
            replyTo: replyTo,
            to: uniqueTo,
            cc: uniqueCc,
            envelope: MessageEnvelope(reversePath: from.address.addressSpec, recipients: recipients.map(\.addressSpec)),
            requiresSMTPUTF8: everyAddress.contains(where: \.requiresSMTPUTF8))
    }

    /// `field` names the list's entry `index`, or (with nil) the list; `indexed`: the values
    /// are the entries of an array, each named by its index in errors.
    private func list(
        _ values: [String], field listField: (_ index: Int?) -> DraftField, indexed: Bool
    ) throws(CompositionError) -> [Mailbox] {
        var mailboxes: [Mailbox] = []
        for (index, value) in values.enumerated() {
            let field = listField(indexed ? index : nil)
            try Self.checkNoLineBreaks(value, field: field, what: "An address in \(field)")
            do {
                mailboxes += try AddressListParser.parse(value)
            } catch {
                throw .invalidAddress(field: field, entry: error.entry, reason: error.reason)
            }
        }
        return mailboxes
    }

    private func single(_ value: String, field: DraftField) throws(CompositionError) -> Mailbox {
        let mailboxes = try list([value], field: { _ in field }, indexed: false)
        guard mailboxes.count == 1, let mailbox = mailboxes.first else {
            throw .singleAddressExpected(field: field, count: mailboxes.count)
        }
        return mailbox
    }
}

extension MessageDraft {
    /// The envelope recipients the composer will give the server (To, Cc and Bcc, each
    /// address once), counted before composing, or nil when a list does not parse (the
    /// composition then says why).
    public var envelopeRecipientCount: Int? {
        var seen: Set<String> = []
        for value in to + cc + bcc {
            guard let mailboxes = try? AddressListParser.parse(value) else { return nil }
            for mailbox in mailboxes { seen.insert(mailbox.address.deduplicationKey) }
        }
        return seen.count
    }
}
