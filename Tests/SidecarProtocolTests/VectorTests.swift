import Foundation
import NIOCore
import NIOEmbedded
import SidecarClient
import SidecarCore
import SidecarProtocol
import SidecarTestSupport
import Testing

/// Every vector in `proto-spec/vectors/vectors.json`, through the frame decoder and the
/// request decoder. (The server's responses to the same vectors are checked in
/// SidecarServerTests.)
@Suite struct VectorTests {
    static let file = try! VectorFile.load()

    @Test func fileIsCurrentAndCoversTheErrorCodesOfTheWireLayer() {
        #expect(Self.file.version == 1)
        #expect(Self.file.vectors.count >= 25)
        let codes = Set(Self.file.vectors.flatMap { $0.frames.compactMap { $0.error?.code } })
        for code in [ErrorCode.invalidJSON, .notAnObject, .missingID, .unknownOperation, .invalidParams] {
            #expect(codes.contains(code.rawValue), "no vector for \(code)")
        }
    }

    @Test(arguments: file.vectors.map(\.name))
    func vectorDecodesAsSpecified(name: String) throws {
        let vector = try #require(Self.file.vectors.first { $0.name == name })
        let channel = EmbeddedChannel(
            handler: ByteToMessageHandler(FrameDecoder(maxPayloadLength: UInt32(vector.maxFrameBytes))))
        try channel.writeInbound(ByteBuffer(bytes: vector.stream))
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        var frames: [InboundFrame] = []
        while let frame = try channel.readInbound(as: InboundFrame.self) {
            frames.append(frame)
        }
        _ = try? channel.finish()
        try #require(frames.count == vector.frames.count, "\(name): decoded \(frames)")

        for (frame, expected) in zip(frames, vector.frames) {
            switch frame {
            case .oversized(let declared, let limit):
                #expect(declared == expected.oversized?.declaredLength)
                #expect(Int(limit) == vector.maxFrameBytes)
            case .truncated(let received, let total):
                #expect(received == expected.truncated?.received)
                #expect(total == expected.truncated?.expected)
            case .payload(let payload):
                switch RequestDecoder().decode(payload) {
                case .success(let request):
                    let wanted = try #require(expected.request, "\(name): decoded a request, expected \(expected)")
                    #expect(Self.json(request.id) == wanted.id)
                    #expect(request.operation.name.rawValue == wanted.op)
                    if case .ping(let params) = request.operation, case .object(let object)? = wanted.params {
                        #expect(params.data.map(JSONValue.string) == object["data"])
                    }
                case .failure(let failure):
                    let wanted = try #require(expected.error, "\(name): failed with \(failure.error), expected \(expected)")
                    #expect(failure.error.code.rawValue == wanted.code)
                    #expect(failure.error.field == wanted.field)
                    #expect(failure.id.map(Self.json) ?? .null == wanted.id ?? .null)
                    #expect(!failure.error.message.isEmpty)
                }
            }
        }
    }

    static func json(_ id: RequestID) -> JSONValue {
        switch id {
        case .string(let value): .string(value)
        case .integer(let value): .integer(Int64(value))
        }
    }
}
