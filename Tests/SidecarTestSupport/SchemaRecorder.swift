import Foundation
import Synchronization
import Testing

/// Collects live responses and has `proto-spec/tools/validate.py` check them against the
/// JSON Schemas.
public final class SchemaRecorder: Sendable {
    public init() {}

    let lines = Mutex<[String]>([])

    public func record(op: String?, _ responses: [Data]) {
        let opJSON = op.map { "\"\($0)\"" } ?? "null"
        lines.withLock { lines in
            lines += responses.map { #"{"op":\#(opJSON),"response":\#(String(decoding: $0, as: UTF8.self))}"# }
        }
    }

    public func validate() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("responses-\(UUID().uuidString).jsonl")
        try lines.withLock { $0.joined(separator: "\n") }.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let script = try TestEnvironment.repositoryRoot().appendingPathComponent("proto-spec/tools/validate.py").path
        let outcome = try await ChildProcess.run("/usr/bin/env", ["python3", script, "responses", file.path])
        #expect(outcome.status == 0, "\(outcome.summary)")
        #expect(outcome.stdout.contains(" passed, 0 failed"), "\(outcome.summary)")
    }
}
