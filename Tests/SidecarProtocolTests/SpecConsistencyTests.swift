import Foundation
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
        guard case .array(let values)? = schema["properties"]?["code"]?["enum"] else {
            Issue.record("error.schema.json has no code enum")
            return
        }
        #expect(Set(values.compactMap(\.string)) == Set(ErrorCode.registry.map(\.rawValue)))
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
