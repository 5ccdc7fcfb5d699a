import Foundation
import SidecarCore
import SidecarProtocol
import SidecarTestSupport
import Testing

/// Item 7 of issue 21: every bound in `proto-spec/schema/` is enforced by the decoder.
///
/// The violating requests are derived from the schema files, not written by hand: for
/// every property with a `type`, `minLength`, `maxLength`, `minimum`, `maximum`, `enum`,
/// `maxItems`, every `required` member and every `oneOf` of required members, the test
/// breaks exactly that constraint in an otherwise valid request and expects
/// `invalid_params` naming the member's JSON path. A bound added to a schema and not
/// enforced fails here.
@Suite struct SchemaConstraintTests {
    static let schemaDirectory = try! TestEnvironment.repositoryRoot().appendingPathComponent("proto-spec/schema")

    /// A valid request per operation, holding every object and array the schemas describe
    /// so that the constraints inside them can be broken.
    static var bases: [(op: String, params: [String: Any])] { [
        ("hello", ["versions": [1], "client": "c"]),
        ("ping", ["data": "d", "delay_ms": 0]),
        ("credential_status", ["credential_id": "c", "workspace_id": "w"]),
        ("verify", ["workspace_id": "w", "credential": credentialBase, "timeout_ms": 1000]),
        ("send", [
            "workspace_id": "w", "credential": credentialBase, "to": "a@example.com",
            "headers": [["name": "X-A", "value": "v"]],
            "attachments": [["filename": "a.txt", "content_base64": "YQ=="]],
            "context": ["workflow_id": "wf"], "dsn": ["notify": ["failure"], "envelope_id": "e"],
            "dedup_window_seconds": 60, "timeout_ms": 1000,
        ]),
    ] }

    static var credentialBase: [String: Any] {
        ["host": "smtp.example.com", "tls": ["min_version": "1.2"], "limits": ["per_minute": 1]]
    }

    struct Violation: CustomStringConvertible {
        var op: String
        var what: String
        var params: [String: Any]
        var field: String
        var description: String { "\(op) \(field): \(what)" }
    }

    enum Step {
        case key(String)
        case index(Int)
    }

    static func schema(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: schemaDirectory.appendingPathComponent(name))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// `credential.schema.json` and friends; in-file references are not used by params.
    static func resolve(_ schema: [String: Any]) throws -> [String: Any] {
        guard let reference = schema["$ref"] as? String else { return schema }
        return try Self.schema(reference)
    }

    static func path(_ steps: [Step]) -> String {
        steps.reduce("params") { path, step in
            switch step {
            case .key(let key): "\(path).\(key)"
            case .index(let index): "\(path)[\(index)]"
            }
        }
    }

    static func setting(_ value: Any?, at steps: ArraySlice<Step>, in root: Any) -> Any {
        guard let step = steps.first else { return value as Any }
        switch step {
        case .key(let key):
            var object = root as! [String: Any]
            if steps.count == 1 {
                object[key] = value
            } else {
                object[key] = setting(value, at: steps.dropFirst(), in: object[key]!)
            }
            return object
        case .index(let index):
            var array = root as! [Any]
            array[index] = setting(value, at: steps.dropFirst(), in: array[index])
            return array
        }
    }

    static func value(at steps: [Step], in root: Any) -> Any? {
        var current: Any? = root
        for step in steps {
            switch step {
            case .key(let key): current = (current as? [String: Any])?[key]
            case .index(let index): current = (current as? [Any]).flatMap { index < $0.count ? $0[index] : nil }
            }
        }
        return current
    }

    /// A string of `count` code points but fewer characters (e + U+0301 pairs), so that
    /// counting characters instead of code points is caught.
    static func codePoints(_ count: Int) -> String {
        String(repeating: "e\u{301}", count: count / 2) + (count % 2 == 1 ? "a" : "")
    }

    /// A valid value for a member named in a `oneOf` alternative, to break "not both".
    static func sample(_ schema: [String: Any]) throws -> Any {
        let schema = try resolve(schema)
        if schema["type"] as? String == "object" { return ["host": "h.example.com"] }
        return "x"
    }

    static func violations() throws -> [Violation] {
        var found: [Violation] = []
        for (op, base) in bases {
            let params = try #require((try schema("\(op.replacingOccurrences(of: "_", with: "-")).schema.json")["$defs"] as? [String: Any])?["params"] as? [String: Any])
            try walk(params, steps: [], base: base, op: op, into: &found)
        }
        return found
    }

    static func walk(_ rawSchema: [String: Any], steps: [Step], base: [String: Any], op: String, into found: inout [Violation]) throws {
        let schema = try resolve(rawSchema)
        let here = path(steps)
        func add(_ what: String, _ value: Any?, at target: [Step], field: String, base: [String: Any] = base) {
            let params = setting(value, at: ArraySlice(target), in: base) as! [String: Any]
            found.append(Violation(op: op, what: what, params: params, field: field))
        }
        let type = schema["type"] as? String
        if !steps.isEmpty, let type {
            let wrong: Any = type == "string" ? 12345 : "not-\(type)"
            add("wrong type for \(type)", wrong, at: steps, field: here)
        }
        if !steps.isEmpty, schema["oneOf"] != nil, type == nil, schema["enum"] == nil {
            add("neither alternative of oneOf", 12345, at: steps, field: here)
        }
        if let minimum = schema["minimum"] as? Int, minimum > Int.min {
            add("below minimum \(minimum)", minimum - 1, at: steps, field: here)
        }
        if let maximum = schema["maximum"] as? Int, maximum < Int.max {
            add("above maximum \(maximum)", maximum + 1, at: steps, field: here)
        }
        if type == "integer" {
            add("not an integer", 1.5, at: steps, field: here)
        }
        if let minLength = schema["minLength"] as? Int, minLength > 0 {
            add("shorter than \(minLength)", codePoints(minLength - 1), at: steps, field: here)
        }
        if let maxLength = schema["maxLength"] as? Int {
            add("longer than \(maxLength)", codePoints(maxLength + 1), at: steps, field: here)
        }
        if let values = schema["enum"] as? [Any], values.allSatisfy({ $0 is String }) {
            add("outside the enum", "no-such-value", at: steps, field: here)
        }
        // Objects: their members, required ones, and oneOf of required members.
        if let object = value(at: steps, in: base) as? [String: Any] {
            for name in (schema["required"] as? [String]) ?? [] where object[name] != nil {
                add("required \(name) missing", nil, at: steps + [.key(name)], field: "\(here).\(name)")
            }
            let properties = (schema["properties"] as? [String: Any]) ?? [:]
            let alternatives = ((schema["oneOf"] as? [[String: Any]]) ?? []).compactMap { $0["required"] as? [String] }
            if alternatives.count == 2, alternatives.allSatisfy({ $0.count == 1 }) {
                let first = alternatives[0][0]
                let second = alternatives[1][0]
                var neither = object
                neither[first] = nil
                neither[second] = nil
                add("neither \(first) nor \(second)", neither, at: steps, field: "\(here).\(first)")
                var both = object
                for name in [first, second] where both[name] == nil {
                    both[name] = try sample(try #require(properties[name] as? [String: Any]))
                }
                add("both \(first) and \(second)", both, at: steps, field: "\(here).\(second)")
            }
            for (name, property) in properties.sorted(by: { $0.key < $1.key }) {
                guard let property = property as? [String: Any] else { continue }
                var memberBase = base
                if object[name] == nil {
                    // Absent from the base: give it a valid value first, and when it is one
                    // alternative of a oneOf, drop the others.
                    var changed = object
                    changed[name] = try sample(property)
                    let choices = alternatives.flatMap { $0 }
                    if choices.contains(name) {
                        for alternative in choices where alternative != name { changed[alternative] = nil }
                    }
                    memberBase = setting(changed, at: ArraySlice(steps), in: base) as! [String: Any]
                }
                try walk(property, steps: steps + [.key(name)], base: memberBase, op: op, into: &found)
            }
        }
        // Arrays: their first entry, and their length.
        if let array = value(at: steps, in: base) as? [Any], !array.isEmpty {
            let items = (schema["items"] as? [String: Any])
                ?? ((schema["oneOf"] as? [[String: Any]])?.first { $0["type"] as? String == "array" }?["items"] as? [String: Any])
            if let items {
                try walk(items, steps: steps + [.index(0)], base: base, op: op, into: &found)
            }
            if let maxItems = schema["maxItems"] as? Int {
                add("more than \(maxItems) items", Array(repeating: array[0], count: maxItems + 1), at: steps, field: here)
            }
        }
    }

    @Test func theBasesAreValidRequests() throws {
        for (op, params) in Self.bases {
            let payload = try JSONSerialization.data(withJSONObject: ["id": 1, "op": op, "params": params])
            #expect(throws: Never.self) { try RequestDecoder().decode(payload).get() }
        }
    }

    @Test func everySchemaConstraintIsEnforcedWithItsField() throws {
        let violations = try Self.violations()
        // Enough to cover every operation's constraints: a schema walk that finds little is broken.
        #expect(violations.count > 120, "only \(violations.count) violations derived")
        for field in ["params.dedup_window_seconds", "params.workspace_id", "params.timeout_ms",
                      "params.attachments[0].content_base64", "params.attachments[0].url", "params.credential.port",
                      "params.credential_id", "params.credential.limits.daily", "params.versions[0]", "params.headers[0].value"] {
            #expect(violations.contains { $0.field == field }, "no violation derived for \(field)")
        }
        for violation in violations {
            let payload = try JSONSerialization.data(withJSONObject: ["id": "v", "op": violation.op, "params": violation.params])
            switch RequestDecoder().decode(payload) {
            case .success:
                Issue.record("accepted: \(violation)")
            case .failure(let failure):
                #expect(failure.error.code == .invalidParams, "\(violation): \(failure.error)")
                #expect(failure.error.field == violation.field, "\(violation): \(failure.error)")
                #expect(failure.id == .string("v"))
            }
        }
    }

    @Test(arguments: ["hello", "ping", "stats", "send", "verify", "metrics", "credential_status"])
    func paramsThatAreNotAnObjectAreRefused(op: String) throws {
        let payload = try JSONSerialization.data(withJSONObject: ["id": "v", "op": op, "params": ["not", "an", "object"]])
        guard case .failure(let failure) = RequestDecoder().decode(payload) else {
            Issue.record("accepted")
            return
        }
        #expect(failure.error.code == .invalidParams && failure.error.field == "params")
    }
}
