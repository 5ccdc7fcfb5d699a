/// A validated, composed message: its envelope, its facts, and a streaming writer for its
/// RFC 5322 bytes.
///
/// Composing holds only the header blocks and references to the bodies and attachment
/// sources; bodies are normalised and encoded, attachments base64-encoded, while
/// ``write(to:)`` runs, in chunks. The output has CRLF line endings, no line over
/// 998 octets, ends with CRLF, and is not dot-stuffed.
public struct ComposedMessage: Sendable {
    /// MAIL FROM and RCPT TO.
    public let envelope: MessageEnvelope
    /// The Message-ID field value with its angle brackets, e.g. `<4f1c...@example.com>`.
    public let messageID: String
    /// The sender, as it appears in From.
    public let from: Mailbox
    /// Whether an address has a non-ASCII local part (RFC 6531): the transport must use
    /// SMTPUTF8 and refuse with `smtputf8_unsupported` when the server lacks it.
    public let requiresSMTPUTF8: Bool
    /// Whether a body needs 8BITMIME. Always false: every body is 7bit, quoted-printable or
    /// base64, so non-ASCII bytes appear only in headers and only when ``requiresSMTPUTF8``.
    public var requires8BitMIME: Bool { false }
    /// The exact size in bytes of what ``write(to:)`` produces, before
    /// dot-stuffing; nil when an attachment source does not know its size in advance.
    public var byteCount: Int? {
        root.byteCount.map { headers.count + $0 + trailer.count }
    }

    let limits: MessageLimits
    /// The message's own header fields (Date ... custom headers), without the root entity's
    /// Content-* fields, which are in `root.headers`.
    let headers: [UInt8]
    let root: MIMEEntity

    /// CRLF when the body does not already end with one.
    var trailer: [UInt8] { root.endsWithLineBreak ? [] : ASCII.crlf }

    /// Writes the message to `sink`.
    ///
    /// Throws the sink's errors, an attachment source's errors, and `SidecarError`s for a
    /// source that yields more than the limits allow or a different size than it announced.
    /// On error the sink has received part of the message; the SMTP layer must abort the
    /// transaction rather than end the DATA.
    public nonisolated(nonsending) func write(to sink: inout some MessageByteSink) async throws {
        var writer = MessageWriter(limits: limits)
        writer.append(headers)
        try await writer.write(root, to: &sink)
        writer.append(trailer)
        try await writer.flush(to: &sink)
        assert(byteCount == nil || byteCount == writer.totalBytes, "byteCount \(String(describing: byteCount)) != \(writer.totalBytes)")
    }

    /// The whole message in memory. For tests and small messages; the SMTP layer should
    /// use ``write(to:)``.
    public nonisolated(nonsending) func serialize() async throws -> [UInt8] {
        var sink = ByteArraySink(reservingCapacity: byteCount ?? 0)
        try await write(to: &sink)
        return sink.bytes
    }
}
