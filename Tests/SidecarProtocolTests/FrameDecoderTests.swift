import NIOCore
import NIOEmbedded
import NIOTestUtils
import SidecarProtocol
import Testing

@Suite struct FrameDecoderTests {
    func frame(_ text: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeFrame(Array(text.utf8))
        return buffer
    }

    @Test func decodesFramesSplitAtEveryPossibleByteBoundary() throws {
        let inputs = ["{}", "{\"id\":1,\"op\":\"ping\"}", String(repeating: "x", count: 300), ""]
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: inputs.map { text in (frame(text), [InboundFrame.payload(ByteBuffer(string: text))]) },
            decoderFactory: { FrameDecoder(maxPayloadLength: 1024) }
        )
    }

    @Test func verifierWithSingleStepDecoder() throws {
        try ByteToMessageDecoderVerifier.verifyDecoder(
            stringInputOutputPairs: [
                ("\u{0}\u{0}\u{0}\u{2}{}", [InboundFrame.payload(ByteBuffer(string: "{}"))]),
                ("\u{0}\u{0}\u{0}\u{0}", [InboundFrame.payload(ByteBuffer())]),
            ],
            decoderFactory: { FrameDecoder(maxPayloadLength: 16) }
        )
    }

    @Test func oversizedHeaderIsRejectedBeforeAnyPayloadIsBuffered() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maxPayloadLength: 1024)))
        var header = ByteBuffer()
        header.writeInteger(UInt32(1025), endianness: .big)
        try channel.writeInbound(header)
        #expect(try channel.readInbound(as: InboundFrame.self) == .oversized(declaredLength: 1025, limit: 1024))
        // Everything after the header is consumed and dropped, never accumulated.
        for _ in 0..<64 {
            try channel.writeInbound(ByteBuffer(repeating: 0x7B, count: 4096))
            #expect(try channel.readInbound(as: InboundFrame.self) == nil)
        }
        // A valid frame after an oversized one is not decoded: the framing is broken.
        try channel.writeInbound(frame("{}"))
        #expect(try channel.readInbound(as: InboundFrame.self) == nil)
        _ = try channel.finish()
    }

    @Test func discardingDecoderConsumesEveryByteItIsGiven() throws {
        var decoder = FrameDecoder(maxPayloadLength: 8)
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(9), endianness: .big)
        buffer.writeRepeatingByte(0x41, count: 5)
        #expect(try decoder.decode(buffer: &buffer) == .oversized(declaredLength: 9, limit: 8))
        #expect(buffer.readableBytes == 0)
        buffer.writeRepeatingByte(0x41, count: 10_000)
        #expect(try decoder.decode(buffer: &buffer) == nil)
        #expect(buffer.readableBytes == 0)
        #expect(try decoder.decodeLast(buffer: &buffer, seenEOF: true) == nil)
    }

    @Test(arguments: [
        ([UInt8]([0, 0]), 2, 4),
        ([UInt8]([0, 0, 0, 10, 0x7B]), 5, 14),
    ])
    func truncatedFrameAtEndOfStream(bytes: [UInt8], received: Int, expected: Int) throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maxPayloadLength: 1024)))
        try channel.writeInbound(ByteBuffer(bytes: bytes))
        #expect(try channel.readInbound(as: InboundFrame.self) == nil)
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(try channel.readInbound(as: InboundFrame.self) == .truncated(received: received, expected: expected))
        _ = try channel.finish()
    }

    @Test func encoderWritesBigEndianLengthThenPayload() throws {
        let channel = EmbeddedChannel(handler: MessageToByteHandler(FrameEncoder()))
        try channel.writeOutbound(ByteBuffer(string: "{\"ok\":true}"))
        var written = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(written.readInteger(endianness: .big, as: UInt32.self) == 11)
        #expect(written.readString(length: written.readableBytes) == "{\"ok\":true}")
        _ = try channel.finish()
    }
}
