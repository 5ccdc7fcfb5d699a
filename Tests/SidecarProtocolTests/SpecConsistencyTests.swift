import Foundation
import SidecarClient
import SidecarCore
import SidecarProtocol
import SidecarTestSupport
import Testing

/// `proto-spec/` is the truth for clients: the code's error registry and operations must
/// match what it documents, and the JSON Schemas must agree with the decoder.
@Suite struct SpecConsistencyTests {
    static let spec = try! TestEnvironment.repositoryRoot().appendingPathComponent("proto-spec")

    static func documentedCodes() throws -> [String] {
        let text = try String(contentsOf: spec.appendingPathComponent("errors.md"), encoding: .utf8)
        return text.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("| `") else { return nil }
            let code = line.dropFirst(3).prefix { $0 != "`" }
            return String(code)
        }
    }

    @Test func everyRegisteredCodeIsDocumentedAndNothingElse() throws {
        let registered = ErrorCode.registry.map(\.rawValue)
        let documented = try Self.documentedCodes()
        #expect(Set(documented).count == documented.count, "a code is documented twice")
        #expect(Set(registered) == Set(documented),
            "undocumented: \(Set(registered).subtracting(documented)); not registered: \(Set(documented).subtracting(registered))")
    }

    @Test func errorSchemaListsExactlyTheRegisteredCodes() throws {
        let data = try Data(contentsOf: Self.spec.appendingPathComponent("schema/error.schema.json"))
        let schema = try JSONValue.parse(data)
        guard case .array(let values)? = schema["$defs"]?["known_code"]?["enum"] else {
            Issue.record("error.schema.json has no $defs/known_code enum")
            return
        }
        #expect(Set(values.compactMap(\.string)) == Set(ErrorCode.registry.map(\.rawValue)))
        // Open for additive codes (§4): the code member itself is any string.
        #expect(schema["properties"]?["code"]?["enum"] == nil)
        #expect(schema["properties"]?["code"]?["type"] == .string("string"))
    }

    /// Item 9a/9b of issue 21: §4 promises additive members, codes and phases, so no
    /// response schema may be closed, and requests ignore unknown members at every level.
    @Test func noSchemaIsClosedToAdditions() throws {
        let directory = Self.spec.appendingPathComponent("schema")
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".json") {
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            #expect(!text.contains(#""additionalProperties": false"#), "\(name) is closed")
        }
        let send = try JSONValue.parse(Data(contentsOf: directory.appendingPathComponent("send.schema.json")))
        #expect(send["$defs"]?["result"]?["properties"]?["phase"]?["enum"] == nil)
        guard case .array(let phases)? = send["$defs"]?["known_phase"]?["enum"] else {
            Issue.record("send.schema.json has no $defs/known_phase")
            return
        }
        // Every known phase is documented in §5.4.
        let readme = try String(contentsOf: Self.spec.appendingPathComponent("README.md"), encoding: .utf8)
        for phase in phases.compactMap(\.string) {
            #expect(readme.contains("`\(phase)`"), "phase \(phase) is not in README.md")
        }
        #expect(phases.compactMap(\.string).contains("reset") && phases.compactMap(\.string).contains("quit"))
    }

    @Test func requestSchemaListsEveryOperation() throws {
        let data = try Data(contentsOf: Self.spec.appendingPathComponent("schema/request.schema.json"))
        guard case .array(let values)? = try JSONValue.parse(data)["properties"]?["op"]?["enum"] else {
            Issue.record("request.schema.json has no op enum")
            return
        }
        #expect(values.compactMap(\.string) == OperationName.allCases.map(\.rawValue))
    }

    @Test func vectorsAreValidAgainstTheSchemasExactlyWhenTheDecoderAcceptsThem() async throws {
        let outcome = try await ChildProcess.run(
            "/usr/bin/env", ["python3", Self.spec.appendingPathComponent("tools/validate.py").path, "vectors"])
        #expect(outcome.status == 0, "\(outcome.summary)")
        #expect(outcome.stdout.contains(" passed, 0 failed"), "\(outcome.summary)")
    }
}
