import Foundation
import SidecarTestSupport
import Testing

/// The server's responses to every vector of `proto-spec/vectors/vectors.json`, each on a
/// connection of its own, over a real Unix socket.
@Suite struct ServerVectorTests {
    struct File: Decodable {
        struct Vector: Decodable {
            var name: String
            var stream_hex: String
            var responses: [JSONValue]
            var server_closes: Bool
            var client_half_closes: Bool
        }

        var max_frame_bytes: Int
        var vectors: [Vector]
    }

    static let file: File = {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("proto-spec/vectors/vectors.json")
        return try! JSONDecoder().decode(File.self, from: Data(contentsOf: url))
    }()

    static func bytes(_ hex: String) -> [UInt8] {
        stride(from: 0, to: hex.count, by: 2).map { offset in
            let start = hex.index(hex.startIndex, offsetBy: offset)
            return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)!
        }
    }

    @Test func everyVectorGetsItsSpecifiedResponses() async throws {
        try await ServerHarness.withServer(maxFrameBytes: Self.file.max_frame_bytes) { harness in
            for vector in Self.file.vectors {
                let client = try await harness.connect()
                try await client.write(Self.bytes(vector.stream_hex))
                if vector.client_half_closes { try await client.shutdownWrite() }
                let responses =
                    vector.server_closes
                    ? try await client.responsesUntilClosed()
                    : try await client.responses(vector.responses.count)
                #expect(responses.count == vector.responses.count, "\(vector.name): \(responses)")
                // Responses may arrive in any order: match each expected one by id.
                for expected in vector.responses {
                    let match = responses.first { $0.contains(expected) }
                    #expect(match != nil, "\(vector.name): no response matches \(expected) in \(responses)")
                }
                for response in responses where response["ok"] == .bool(false) {
                    let message = response["error"]?["message"]?.string ?? ""
                    #expect(!message.isEmpty, "\(vector.name)")
                }
                if !vector.server_closes {
                    // The connection is still usable after a malformed frame.
                    try await client.writeFrame(#"{"id":"after","op":"ping"}"#)
                    let after = try await client.responses(1)
                    #expect(after.first?["id"] == .string("after"), "\(vector.name): connection unusable after it")
                }
                await client.close()
            }
        }
    }
}
