import SidecarCore

/// Serialises a ``MIMEEntity`` tree into a ``MessageByteSink`` through a bounded buffer:
/// encoders append to the buffer, which is handed to the sink whenever it passes
/// ``flushThreshold``. Memory stays at one buffer plus one input chunk, whatever the size
/// of the message.
struct MessageWriter {
    static let flushThreshold = 64 * 1024
    /// Bytes of body text fed to an encoder between flush checks.
    static let textSliceSize = 16 * 1024

    let limits: MessageLimits
    private var buffer: [UInt8] = []
    private(set) var totalBytes = 0

    init(limits: MessageLimits) {
        self.limits = limits
        buffer.reserveCapacity(Self.flushThreshold + 4 * Self.textSliceSize)
    }

    mutating func append(_ bytes: [UInt8]) {
        buffer += bytes
    }

    nonisolated(nonsending) mutating func flush(
        to sink: inout some MessageByteSink
    ) async throws {
        guard !buffer.isEmpty else { return }
        totalBytes += buffer.count
        guard totalBytes <= limits.maxMessageBytes else {
            throw SidecarError(writing: .messageTooLarge(limit: limits.maxMessageBytes))
        }
        try await sink.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    private nonisolated(nonsending) mutating func flushIfFull(
        to sink: inout some MessageByteSink
    ) async throws {
        if buffer.count >= Self.flushThreshold { try await flush(to: &sink) }
    }

    nonisolated(nonsending) mutating func write(
        _ entity: MIMEEntity, to sink: inout some MessageByteSink
    ) async throws {
        buffer += entity.headers
        buffer += ASCII.crlf
        switch entity.body {
        case .text(let content, let encoding, _):
            switch encoding {
            case .sevenBit:
                var encoder = IdentityTransferEncoder()
                try await writeText(content, with: &encoder, to: &sink)
            case .quotedPrintable:
                var encoder = QuotedPrintableEncoder()
                try await writeText(content, with: &encoder, to: &sink)
            case .base64:
                var encoder = Base64Encoder()
                try await writeText(content, with: &encoder, to: &sink)
            }
        case .attachment(let part):
            try await writeAttachment(part, to: &sink)
        case .multipart(let boundary, let parts):
            let delimiter = Array("--\(boundary)".utf8)
            for part in parts {
                buffer += delimiter
                buffer += ASCII.crlf
                try await write(part, to: &sink)
                buffer += ASCII.crlf
            }
            buffer += delimiter
            buffer += Array("--".utf8)
        }
        try await flushIfFull(to: &sink)
    }

    private nonisolated(nonsending) mutating func writeText<Encoder: TransferEncoder>(
        _ content: TextContent, with encoder: inout Encoder, to sink: inout some MessageByteSink
    ) async throws {
        var normalizer = LineBreakNormalizer()
        let utf8 = content.text.utf8
        var index = utf8.startIndex
        while index < utf8.endIndex {
            let end = utf8.index(index, offsetBy: Self.textSliceSize, limitedBy: utf8.endIndex) ?? utf8.endIndex
            normalizer.feed(utf8[index..<end], to: &encoder, into: &buffer)
            index = end
            try await flushIfFull(to: &sink)
        }
        content.finish(normalizer: &normalizer, encoder: &encoder, into: &buffer)
    }

    private nonisolated(nonsending) mutating func writeAttachment(
        _ part: MIMEEntity.AttachmentPart, to sink: inout some MessageByteSink
    ) async throws {
        var encoder = Base64Encoder()
        var produced = 0
        let expected = part.source.byteCount
        for try await chunk in part.source.makeChunks() {
            produced += chunk.count
            guard produced <= limits.maxAttachmentBytes else {
                throw SidecarError(writing: .attachmentTooLarge(index: part.index, limit: limits.maxAttachmentBytes))
            }
            if let expected, produced > expected {
                throw SidecarError(writing: .attachmentSizeMismatch(index: part.index, expected: expected))
            }
            var offset = chunk.startIndex
            while offset < chunk.endIndex {
                let end = min(offset + Self.flushThreshold, chunk.endIndex)
                encoder.encode(chunk[offset..<end], into: &buffer)
                offset = end
                try await flushIfFull(to: &sink)
            }
        }
        if let expected, produced != expected {
            throw SidecarError(writing: .attachmentSizeMismatch(index: part.index, expected: expected))
        }
        encoder.finish(into: &buffer)
    }
}
