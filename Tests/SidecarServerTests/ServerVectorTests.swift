import Foundation
import SidecarClient
import SidecarTestSupport
import Testing

/// The server's responses to every vector of `proto-spec/vectors/vectors.json`, each on a
/// connection of its own, over a real Unix socket.
@Suite struct ServerVectorTests {
    static let file = try! VectorFile.load()

    @Test func everyVectorGetsItsSpecifiedResponses() async throws {
        let recorder = SchemaRecorder()
        try await ServerHarness.withServer(maxFrameBytes: Self.file.maxFrameBytes) { harness in
            for vector in Self.file.vectors {
                let client = try await harness.connect()
                try await client.write(vector.stream)
                if vector.clientHalfCloses { try await client.shutdownWrite() }
                let raw = try await client.rawResponses(vector.serverCloses ? Int.max : vector.responses.count)
                recorder.record(op: nil, raw)
                let responses = try raw.map(JSONValue.parse)
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
                if !vector.serverCloses {
                    // The connection is still usable after a malformed frame.
                    try await client.writeFrame(#"{"id":"after","op":"ping"}"#)
                    let after = try await client.responses(1)
                    #expect(after.first?["id"] == .string("after"), "\(vector.name): connection unusable after it")
                }
                await client.close()
            }
        }
        try await recorder.validate()
    }

    @Test func liveResultsOfEveryOperationMatchTheirSchemas() async throws {
        let recorder = SchemaRecorder()
        try await ServerHarness.withServer { harness in
            let client = try await harness.connect()
            let requests = [
                ("hello", #"{"id":"h","op":"hello","params":{"versions":[1],"client":"schema-check"}}"#),
                ("ping", #"{"id":"p","op":"ping","params":{"data":"x"}}"#),
                ("ping", #"{"id":"p0","op":"ping"}"#),
                ("stats", #"{"id":"s","op":"stats"}"#),
                ("metrics", #"{"id":"m","op":"metrics"}"#),
                ("credential_status", #"{"id":"c","op":"credential_status"}"#),
                ("send", #"{"id":"n","op":"send","params":{"workspace_id":"w"}}"#),
            ]
            for (op, json) in requests {
                try await client.writeFrame(json)
                recorder.record(op: op, try await client.rawResponses(1))
            }
            await client.close()
        }
        try await recorder.validate()
    }
}
