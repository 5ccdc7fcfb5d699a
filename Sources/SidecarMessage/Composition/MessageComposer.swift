import FoundationEssentials
import SidecarCore

/// Turns a ``MessageDraft`` into a ``ComposedMessage``: validates every field against the
/// rules and ``MessageLimits``, and builds the envelope, the header blocks and the MIME
/// tree. Pure apart from the injected clock and id generator; no I/O.
///
/// The structure it builds:
/// - text only: `text/plain; charset=utf-8`;
/// - HTML: `multipart/alternative` of the text (given, or derived from the HTML) and the
///   HTML, the HTML wrapped in `multipart/related` with the inline images when there are any;
/// - attachments: `multipart/mixed` of the above and the attachments.
public struct MessageComposer: Sendable {
    public var limits: MessageLimits
    /// The domain of Message-IDs; the From address's domain when nil.
    public var hostname: String?
    /// The time written in the Date header.
    public var clock: @Sendable () -> Date
    /// A unique token for the Message-ID's left part and the MIME boundaries: dot-atom
    /// text (letters, digits, `.`), unique per message.
    public var makeUniqueID: @Sendable () -> String

    public init(
        limits: MessageLimits = MessageLimits(),
        hostname: String? = nil,
        clock: @escaping @Sendable () -> Date = { Date() },
        makeUniqueID: @escaping @Sendable () -> String = MessageComposer.randomUniqueID
    ) {
        self.limits = limits
        self.hostname = hostname
        self.clock = clock
        self.makeUniqueID = makeUniqueID
    }

    /// 128 random bits from the system's cryptographic generator, as 32 hex digits.
    @Sendable public static func randomUniqueID() -> String {
        let high = BufferedRandom.shared.next()
        let low = BufferedRandom.shared.next()
        return String(unsafeUninitializedCapacity: 32) { digits in
            for nibble in 0..<32 {
                let word = nibble < 16 ? high : low
                digits[nibble] = Hex.digit(UInt8(truncatingIfNeeded: word >> (60 - 4 * UInt64(nibble % 16))) & 0xF)
            }
            return 32
        }
    }

    /// Validates `draft` and composes it. `defaultFrom` is the credential's From address,
    /// used when the draft has none.
    public func compose(_ draft: MessageDraft, defaultFrom: String? = nil) throws(CompositionError) -> ComposedMessage {
        let addresses = try resolveAddresses(draft, defaultFrom: defaultFrom)
        let subject = try subjectTokens(draft.subject)
        let customFields = try customHeaderFields(draft.headers, priority: draft.priority)
        let bodies = try resolveBodies(draft)
        let attachments = try resolveAttachments(draft.attachments)

        let uniqueID = makeUniqueID()
        let root = bodyTree(bodies: bodies, attachments: attachments, boundaryStem: Self.boundaryStem(uniqueID))
        let messageID = "<\(uniqueID)@\(hostname ?? addresses.from.address.asciiDomain)>"

        var headers: [UInt8] = []
        headers.reserveCapacity(512)
        HeaderFolder.append("Date", [RFC5322Date.string(from: clock())], to: &headers)
        HeaderFolder.append("From", DisplayName.mailboxTokens(addresses.from), to: &headers)
        if let replyTo = addresses.replyTo {
            HeaderFolder.append("Reply-To", DisplayName.mailboxTokens(replyTo), to: &headers)
        }
        if !addresses.to.isEmpty { HeaderFolder.append("To", DisplayName.addressListTokens(addresses.to), to: &headers) }
        if !addresses.cc.isEmpty { HeaderFolder.append("Cc", DisplayName.addressListTokens(addresses.cc), to: &headers) }
        if !subject.isEmpty { HeaderFolder.append("Subject", subject, to: &headers) }
        HeaderFolder.append("Message-ID", [messageID], to: &headers)
        HeaderFolder.append("MIME-Version", ["1.0"], to: &headers)
        for field in draft.priority?.headerFields ?? [] {
            HeaderFolder.append(field.name, [field.value], to: &headers)
        }
        for field in customFields { headers += field }

        let message = ComposedMessage(
            envelope: addresses.envelope,
            messageID: messageID,
            from: addresses.from,
            requiresSMTPUTF8: addresses.requiresSMTPUTF8,
            limits: limits,
            headers: headers,
            root: root)
        if let size = message.byteCount, size > limits.maxMessageBytes {
            throw .messageTooLarge(limit: limits.maxMessageBytes, size: size)
        }
        return message
    }

    /// Boundaries are `=_<stem>_<kind>`: `=_` cannot occur in quoted-printable or base64
    /// output, and 7bit text is checked for it (``TextEncodingPlan``).
    static func boundaryStem(_ uniqueID: String) -> String {
        let alphanumerics = uniqueID.utf8.filter {
            (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0)
        }.prefix(40)
        return alphanumerics.isEmpty ? "sidecar" : String(decoding: alphanumerics, as: UTF8.self)
    }

    /// Refuses CR and LF in a value that will be written into a header.
    static func checkNoLineBreaks(_ value: String, field: DraftField, what: String) throws(CompositionError) {
        if value.utf8.contains(where: { $0 == ASCII.cr || $0 == ASCII.lf }) {
            throw .forbiddenCharacters(field: field, what: what)
        }
    }
}
