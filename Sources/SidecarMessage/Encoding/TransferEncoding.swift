/// The Content-Transfer-Encoding of a leaf part. The composer never emits 8bit or binary,
/// so every message it builds is 7-bit clean in its bodies and needs no 8BITMIME.
public enum TransferEncoding: String, Sendable, Hashable, CaseIterable {
    case sevenBit = "7bit"
    case quotedPrintable = "quoted-printable"
    case base64 = "base64"

    /// The header value, as written after `Content-Transfer-Encoding:`.
    public var headerValue: String { rawValue }
}
