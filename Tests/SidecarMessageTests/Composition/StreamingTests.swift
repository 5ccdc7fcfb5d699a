import Foundation
import SidecarCore
import SidecarMessage
import Testing

/// An attachment source that yields its bytes asynchronously, like a URL fetch.
struct SlowSource: AttachmentSource {
    let bytes: [UInt8]
    let chunkSize: Int
    /// What the source announces; nil for "unknown until the end".
    let announcedCount: Int?

    var byteCount: Int? { announcedCount }

    func makeChunks() -> any AsyncSequence<ArraySlice<UInt8>, any Error> {
        AsyncThrowingStream { continuation in
            Task {
                var offset = 0
                while offset < bytes.count {
                    await Task.yield()
                    let end = min(bytes.count, offset + chunkSize)
                    continuation.yield(bytes[offset..<end])
                    offset = end
                }
                continuation.finish()
            }
        }
    }
}

/// A source whose stream fails part-way, like a dropped download.
struct FailingSource: AttachmentSource {
    struct Dropped: Error {}
    var byteCount: Int? { nil }

    func makeChunks() -> any AsyncSequence<ArraySlice<UInt8>, any Error> {
        AsyncThrowingStream { continuation in
            continuation.yield([1, 2, 3][...])
            continuation.finish(throwing: Dropped())
        }
    }
}

/// Records chunk sizes.
struct RecordingSink: MessageByteSink {
    var bytes: [UInt8] = []
    var chunkSizes: [Int] = []

    mutating func write(_ chunk: [UInt8]) async throws {
        bytes += chunk
        chunkSizes.append(chunk.count)
    }
}

/// Fails after some bytes, like a connection that drops.
struct BrokenSink: MessageByteSink {
    struct Closed: Error {}
    var remaining: Int

    mutating func write(_ chunk: [UInt8]) async throws {
        remaining -= chunk.count
        if remaining < 0 { throw Closed() }
    }
}

@Suite struct StreamingTests {
    static let payload: [UInt8] = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }

    private func draft(_ content: AttachmentContent, limits: MessageLimits = MessageLimits()) -> MessageDraft {
        var draft = minimalDraft()
        draft.attachments = [AttachmentDraft(filename: "stream.bin", content: content)]
        return draft
    }

    /// The decoded attachment of a serialised message, read by Python's email package.
    private func attachment(of bytes: [UInt8]) throws -> [UInt8]? {
        try PythonEmailParser.parse(bytes).structure.leaves.last?.payload
    }

    @Test func aSourceOfUnknownSizeIsStreamed() async throws {
        let message = try makeComposer().compose(draft(.source(SlowSource(bytes: Self.payload, chunkSize: 10_000, announcedCount: nil))))
        #expect(message.byteCount == nil)
        let bytes = try await message.serialize()
        #expect(try attachment(of: bytes) == Self.payload)
        #expect(bytes.crlfLines.allSatisfy { $0.count <= 998 })
    }

    @Test func aSourceOfKnownSizeGivesAnExactMessageSize() async throws {
        let message = try makeComposer().compose(draft(.source(SlowSource(bytes: Self.payload, chunkSize: 777, announcedCount: Self.payload.count))))
        let bytes = try await message.serialize()
        #expect(message.byteCount == bytes.count)
        #expect(try attachment(of: bytes) == Self.payload)
    }

    @Test func theSameBytesComeOutWhateverTheChunking() async throws {
        let reference = try await makeComposer().compose(draft(.bytes(Self.payload))).serialize()
        let base64 = try await makeComposer().compose(draft(.base64(Data(Self.payload).base64EncodedString(options: .lineLength76Characters)))).serialize()
        let streamed = try await makeComposer().compose(draft(.source(SlowSource(bytes: Self.payload, chunkSize: 1, announcedCount: nil)))).serialize()
        #expect(base64 == reference)
        #expect(streamed == reference)
    }

    @Test func theSinkReceivesBoundedChunks() async throws {
        var text = minimalDraft(text: String(repeating: "Grüße, ", count: 200_000))
        text.attachments = [AttachmentDraft(filename: "big.bin", content: .source(SlowSource(bytes: Self.payload, chunkSize: 250_000, announcedCount: nil)))]
        let message = try makeComposer().compose(text)
        var sink = RecordingSink()
        try await message.write(to: &sink)
        #expect(sink.chunkSizes.count > 10)
        #expect(sink.chunkSizes.allSatisfy { $0 <= 200_000 })
        #expect(sink.bytes == (try await message.serialize()))
    }

    @Test(arguments: [Self.payload.count - 1, Self.payload.count + 1])
    func aSourceThatMisstatesItsSizeFails(announced: Int) async throws {
        let message = try makeComposer().compose(draft(.source(SlowSource(bytes: Self.payload, chunkSize: 4096, announcedCount: announced))))
        await #expect(throws: SidecarError.self) { _ = try await message.serialize() }
        do {
            _ = try await message.serialize()
        } catch let error as SidecarError {
            #expect(error.code == .attachmentInvalid)
            #expect(error.field == "params.attachments[0]")
        }
    }

    @Test func aSourceOverTheAttachmentLimitFailsWhileStreaming() async throws {
        let composer = makeComposer(limits: MessageLimits(maxAttachmentBytes: 100_000))
        let message = try composer.compose(draft(.source(SlowSource(bytes: Self.payload, chunkSize: 4096, announcedCount: nil))))
        await #expect(throws: SidecarError.self) { _ = try await message.serialize() }
        do {
            _ = try await message.serialize()
        } catch let error as SidecarError {
            #expect(error.code == .attachmentTooLarge)
        }
    }

    @Test func aKnownOversizedSourceIsRefusedBeforeWriting() {
        let composer = makeComposer(limits: MessageLimits(maxAttachmentBytes: 100_000))
        let error = compositionError(draft(.source(SlowSource(bytes: [], chunkSize: 1, announcedCount: 100_001))), composer: composer)
        #expect(error?.code == .attachmentTooLarge)
    }

    @Test func anUnknownSizeMessageOverTheLimitFailsWhileStreaming() async throws {
        let composer = makeComposer(limits: MessageLimits(maxMessageBytes: 200_000))
        let message = try composer.compose(draft(.source(SlowSource(bytes: Self.payload, chunkSize: 4096, announcedCount: nil))))
        var sink = RecordingSink()
        do {
            try await message.write(to: &sink)
            Issue.record("expected message_too_large")
        } catch let error as SidecarError {
            #expect(error.code == .messageTooLarge)
        }
        #expect(sink.bytes.count <= 200_000)
    }

    @Test func sourceAndSinkErrorsReachTheCaller() async throws {
        let failing = try makeComposer().compose(draft(.source(FailingSource())))
        await #expect(throws: FailingSource.Dropped.self) { _ = try await failing.serialize() }

        let message = try makeComposer().compose(draft(.bytes(Self.payload)))
        var sink = BrokenSink(remaining: 100_000)
        await #expect(throws: BrokenSink.Closed.self) { try await message.write(to: &sink) }
    }

    @Test func writingFromAnActorWorks() async throws {
        actor Sender {
            var written = 0
            func send(_ message: ComposedMessage) async throws {
                var sink = RecordingSink()
                try await message.write(to: &sink)
                written = sink.bytes.count
            }
        }
        let message = try makeComposer().compose(draft(.bytes(Self.payload)))
        let sender = Sender()
        try await sender.send(message)
        #expect(await sender.written == message.byteCount)
    }
}
