/// The transfer encoding chosen for a text body and the exact size of the encoded body.
///
/// Computed in one pass over the text without keeping the encoded bytes:
/// - **7bit** when every byte is printable ASCII or tab, no line is longer than 998
///   octets and no line starts with `--=_` (the prefix of the composer's boundaries);
/// - otherwise **quoted-printable** or **base64**, whichever is smaller (ties go to
///   quoted-printable): mostly-ASCII text stays readable, other scripts are not tripled.
struct TextEncodingPlan: Sendable, Hashable {
    /// RFC 5322 §2.1.1: a line is at most 998 octets, excluding the CRLF.
    static let maxLineOctets = 998
    /// The prefix of every boundary the composer generates. Quoted-printable escapes the
    /// `=` and base64 has no `_`, so only 7bit content could contain a line starting with it.
    static let boundaryLinePrefix: [UInt8] = Array("--=_".utf8)

    let encoding: TransferEncoding
    /// Bytes of the encoded body, without a trailing line break.
    let encodedSize: Int

    init(content: TextContent) {
        // Pass 1 only sees the text; most bodies are 7bit-safe and stop here.
        var scan = Scan()
        var nothing = ByteCounter()
        content.encode(with: &scan, into: &nothing)
        let scanner = scan.scanner
        if scanner.isSevenBitSafe {
            encoding = .sevenBit
            encodedSize = scanner.normalizedSize
            return
        }
        // Pass 2 sizes the quoted-printable form to compare it with base64.
        var quotedPrintable = QuotedPrintableEncoder()
        var quotedPrintableSize = ByteCounter()
        content.encode(with: &quotedPrintable, into: &quotedPrintableSize)
        let base64Size = Base64Encoder.encodedSize(of: scanner.normalizedSize)
        if quotedPrintableSize.count <= base64Size {
            encoding = .quotedPrintable
            encodedSize = quotedPrintableSize.count
        } else {
            encoding = .base64
            encodedSize = base64Size
        }
    }

    /// Feeds the text's events to the scanner; writes nothing.
    private struct Scan: TransferEncoder {
        var scanner = Scanner()

        mutating func byte<Output: ByteOutput>(_ byte: UInt8, into output: inout Output) {
            scanner.byte(byte)
        }

        mutating func bytes<Output: ByteOutput>(_ run: UnsafeBufferPointer<UInt8>, into output: inout Output) {
            scanner.bytes(run)
        }

        mutating func lineBreak<Output: ByteOutput>(into output: inout Output) {
            scanner.lineBreak()
        }

        mutating func finish<Output: ByteOutput>(into output: inout Output) {}
    }

    /// Facts about the normalised text.
    private struct Scanner {
        private(set) var normalizedSize = 0
        private var lineLength = 0
        private var maxLineLength = 0
        private var hasUnsafeByte = false
        private var hasBoundaryLikeLine = false
        private var lineStart: [UInt8] = []

        var isSevenBitSafe: Bool {
            !hasUnsafeByte && !hasBoundaryLikeLine && maxLineLength <= TextEncodingPlan.maxLineOctets
        }

        mutating func byte(_ byte: UInt8) {
            normalizedSize += 1
            lineLength += 1
            maxLineLength = max(maxLineLength, lineLength)
            if byte != ASCII.tab && !(32...126).contains(byte) { hasUnsafeByte = true }
            if lineLength <= TextEncodingPlan.boundaryLinePrefix.count {
                lineStart.append(byte)
                if lineStart == TextEncodingPlan.boundaryLinePrefix { hasBoundaryLikeLine = true }
            }
        }

        /// A run of bytes without line breaks: the start of a line byte by byte (for the
        /// boundary check), the rest at once.
        mutating func bytes(_ run: UnsafeBufferPointer<UInt8>) {
            var rest = run[...]
            while lineLength < TextEncodingPlan.boundaryLinePrefix.count, let first = rest.first {
                byte(first)
                rest = rest.dropFirst()
            }
            guard !rest.isEmpty else { return }
            normalizedSize += rest.count
            lineLength += rest.count
            maxLineLength = max(maxLineLength, lineLength)
            if !hasUnsafeByte {
                for byte in rest where byte != ASCII.tab && (byte < 32 || byte > 126) {
                    hasUnsafeByte = true
                    break
                }
            }
        }

        mutating func lineBreak() {
            normalizedSize += 2
            lineLength = 0
            lineStart.removeAll(keepingCapacity: true)
        }
    }
}
