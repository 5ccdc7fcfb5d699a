import Foundation
import SidecarClient

/// The vectors of `proto-spec/vectors/vectors.json`, as the tests read them: the frame
/// decoder's tests check `frames`, the live server's tests `responses`.
public struct VectorFile: Decodable, Sendable {
    public var version: Int
    public var maxFrameBytes: Int
    public var vectors: [Vector]

    enum CodingKeys: String, CodingKey {
        case version, vectors
        case maxFrameBytes = "max_frame_bytes"
    }

    public static func load() throws -> VectorFile {
        let url = try TestEnvironment.repositoryRoot().appendingPathComponent("proto-spec/vectors/vectors.json")
        return try JSONDecoder().decode(VectorFile.self, from: Data(contentsOf: url))
    }
}

public struct Vector: Decodable, Sendable {
    public var name: String
    public var description: String
    public var maxFrameBytes: Int
    public var streamHex: String
    public var frames: [ExpectedFrame]
    public var responses: [JSONValue]
    public var clientHalfCloses: Bool
    public var serverCloses: Bool

    enum CodingKeys: String, CodingKey {
        case name, description, frames, responses
        case maxFrameBytes = "max_frame_bytes"
        case streamHex = "stream_hex"
        case clientHalfCloses = "client_half_closes"
        case serverCloses = "server_closes"
    }

    /// The bytes a client writes, decoded from `stream_hex`.
    public var stream: [UInt8] {
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

/// What the server decodes from one frame of a vector.
public struct ExpectedFrame: Decodable, Sendable {
    public struct ExpectedRequest: Decodable, Sendable {
        public var id: JSONValue
        public var op: String
        public var params: JSONValue?
    }

    public struct ExpectedError: Decodable, Sendable {
        public var id: JSONValue?
        public var code: String
        public var field: String?
    }

    public struct Oversized: Decodable, Sendable {
        public var declaredLength: UInt32
        enum CodingKeys: String, CodingKey { case declaredLength = "declared_length" }
    }

    public struct Truncated: Decodable, Sendable {
        public var received: Int
        public var expected: Int
    }

    public var request: ExpectedRequest?
    public var error: ExpectedError?
    public var oversized: Oversized?
    public var truncated: Truncated?
}
