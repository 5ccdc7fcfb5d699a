import Foundation
import SidecarTestSupport

/// The vectors of `proto-spec/vectors/vectors.json`, as the tests read them.
struct VectorFile: Decodable {
    var version: Int
    var maxFrameBytes: Int
    var vectors: [Vector]

    enum CodingKeys: String, CodingKey {
        case version, vectors
        case maxFrameBytes = "max_frame_bytes"
    }

    static func load() throws -> VectorFile {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("proto-spec/vectors/vectors.json")
        return try JSONDecoder().decode(VectorFile.self, from: Data(contentsOf: url))
    }
}

struct Vector: Decodable {
    var name: String
    var description: String
    var maxFrameBytes: Int
    var streamHex: String
    var frames: [ExpectedFrame]
    var responses: [JSONValue]
    var serverCloses: Bool

    enum CodingKeys: String, CodingKey {
        case name, description, frames, responses
        case maxFrameBytes = "max_frame_bytes"
        case streamHex = "stream_hex"
        case serverCloses = "server_closes"
    }

    var stream: [UInt8] {
        var bytes: [UInt8] = []
        var index = streamHex.startIndex
        while index < streamHex.endIndex {
            let next = streamHex.index(index, offsetBy: 2)
            bytes.append(UInt8(streamHex[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

}


struct ExpectedFrame: Decodable {
    struct ExpectedRequest: Decodable {
        var id: JSONValue
        var op: String
        var params: JSONValue?
    }

    struct ExpectedError: Decodable {
        var id: JSONValue?
        var code: String
        var field: String?
    }

    struct Oversized: Decodable {
        var declaredLength: UInt32
        enum CodingKeys: String, CodingKey { case declaredLength = "declared_length" }
    }

    struct Truncated: Decodable {
        var received: Int
        var expected: Int
    }

    var request: ExpectedRequest?
    var error: ExpectedError?
    var oversized: Oversized?
    var truncated: Truncated?
}
