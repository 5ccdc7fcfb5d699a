import Foundation
import NIOCore
import SidecarClient
import SidecarCore
import SidecarProtocol
import SidecarTestSupport
import Testing

/// `JSONWriter`, the `JSONWritable` conformances and `Response.payload`, checked against the
/// `JSONEncoder` path they replace: for every value, both must parse to the same JSON.
@Suite struct JSONWriterTests {
    /// A sample with a name for the test report.
    struct Sample<Value: Sendable>: Sendable, CustomTestStringConvertible {
        var name: String
        var value: Value
        var testDescription: String { name }

        init(_ name: String, _ value: Value) {
            self.name = name
            self.value = value
        }
    }

    // MARK: Reference and helpers

    /// The bytes of the `JSONEncoder` path: an encoder configured as `Response.payload`
    /// configured it before `JSONWriter`.
    static func encoded(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    static func written(_ value: some JSONWritable) -> ByteBuffer {
        var writer = JSONWriter(buffer: ByteBuffer())
        value.writeJSON(to: &writer)
        return writer.buffer
    }

    static func parse(_ buffer: ByteBuffer) throws -> JSONValue {
        try JSONValue.parse(Data(buffer.readableBytesView))
    }

    // MARK: Samples

    static let awkward = "q\" b\\ s/ n\n r\r t\t b\u{8} f\u{C} 0\u{0} 1\u{1} 1f\u{1F} 7f\u{7F} é 🦆 \u{2028} end"

    static let strings: [String] = [
        "", "plain", "\"", "\\", "/", "https://example.com/a/b?c=d", "\n", "\r\n", "\t", "\u{8}", "\u{C}",
        "\u{0}", "\u{1}", "\u{1F}", "\u{7F}", "é", "🦆", "👩‍👩‍👧", "\u{2028}\u{2029}", "\"starts and ends\"",
        "ends with a control\u{1}", "\u{1}starts with a control", awkward,
        String(repeating: "ab/\"é\u{1F}🦆", count: 300),
    ]

    static let reply = SMTPReply(code: 250, enhancedCode: "2.0.0", text: "OK: queued as 4Xy/Zz\nsecond \"line\"")
    static let bareReply = SMTPReply(code: 550, text: awkward)
    static let fullError = SidecarError(
        code: .rateLimited, message: awkward, retryable: true, field: "params.to[2]", smtp: reply, retryAfterMs: 1500)
    static let bareError = SidecarError(code: .invalidJSON, message: "m")
    static let acceptedRecipient = SendResult.Recipient(address: "a@example.com", accepted: true, smtp: reply)
    static let refusedRecipient = SendResult.Recipient(address: "\"Doe, J\"@exa/mple.com", accepted: false, smtp: nil)
    static let fullSend = SendResult(
        outcome: .sent, messageID: "<a/b.c@example.com>", smtp: reply, phase: "data",
        recipients: [acceptedRecipient, refusedRecipient, acceptedRecipient], duplicate: true, error: fullError)
    static let bareSend = SendResult(outcome: .notSent, messageID: nil)
    static let unknownSend = SendResult(
        outcome: .outcomeUnknown, messageID: "<m@x>", recipients: [refusedRecipient], error: bareError)

    static let values: [Sample<any JSONWritable & Encodable>] = [
        Sample("send, every field", fullSend),
        Sample("send, no optional field", bareSend),
        Sample("send, outcome unknown", unknownSend),
        Sample("recipient with smtp", acceptedRecipient),
        Sample("recipient without smtp", refusedRecipient),
        Sample("reply with enhanced code", reply),
        Sample("reply without enhanced code", bareReply),
        Sample("error, every field", fullError),
        Sample("error, no optional field", bareError),
        Sample("ping with data", PingResult(data: awkward)),
        Sample("ping without data", PingResult(data: nil)),
        Sample("ping with empty data", PingResult(data: "")),
        Sample("hello", hello),
        Sample("verify", VerifyResult(
            security: "starttls", server: "mx.example.com \"Postfix\"", authMechanisms: ["PLAIN", "LOGIN"],
            capabilities: ["PIPELINING", "SIZE 10240000", awkward])),
        Sample("verify, nothing offered", VerifyResult(security: "none", server: "", authMechanisms: [], capabilities: [])),
        Sample("stats without pools", StatsResult(
            uptimeMs: 12, connections: .init(open: 1, accepted: 2, refused: 0),
            requests: .init(inFlight: 0, total: 5, byResult: ["ok": 4, "invalid_params": 1], byOperation: [:]))),
        Sample("stats with pools", statsWithPools),
    ]

    static let hello = HelloResult(
        version: 1, server: "smtp-sidecar", serverVersion: "0.1.0", operations: ["hello", "send"],
        limits: .init(maxFrameBytes: 33_554_432, maxInFlight: 32, idleTimeoutMs: 300_000))

    static let statsWithPools: StatsResult = {
        var stats = StatsResult(
            uptimeMs: .max, connections: .init(open: 0, accepted: 0, refused: 3),
            requests: .init(inFlight: 2, total: 9, byResult: ["ok": 9, awkward: 1], byOperation: ["send": 9]))
        stats.pools = [
            StatsResult.Pool(
                label: "ws/cred@smtp.example.com:587", open: 2, idle: 1, leased: 1, waiting: 0, connectionsCreated: 3,
                reuses: 40, tlsHandshakes: 3, creationFailures: 1, discards: 0, backoffs: 1,
                failuresByCode: ["connection_failed": 1, "auth_failed": 2]),
            StatsResult.Pool(
                label: awkward, open: 0, idle: 0, leased: 0, waiting: 0, connectionsCreated: 0, reuses: 0,
                tlsHandshakes: 0, creationFailures: 0, discards: 0, backoffs: 0, failuresByCode: [:]),
        ]
        return stats
    }()

    static let responses: [Sample<Response>] = [
        Sample("success, string id", .success(id: .string("a"), PingResult(data: "d"))),
        Sample("stats", .success(id: .integer(7), statsWithPools)),
        Sample("hello", .success(id: .string("h"), hello)),
        Sample("success, awkward string id", .success(id: .string("i/\"d\\\n\u{1}é"), PingResult(data: nil))),
        Sample("success, integer id", .success(id: .integer(42), fullSend)),
        Sample("success, negative integer id", .success(id: .integer(-9_007_199_254_740_993), bareSend)),
        Sample("success, largest integer id", .success(id: .integer(.max), unknownSend)),
        Sample("success, nil id", Response(id: nil, outcome: .success(PingResult(data: nil)))),
        Sample("failure, nil id", .failure(id: nil, bareError)),
        Sample("failure, string id, every error field", .failure(id: .string("s-1"), fullError)),
        Sample("failure, integer id", .failure(id: .integer(.min), bareError)),
        Sample(
            "failure with a partial send result",
            Response(id: .string("p"), outcome: .failure(fullError, partialResult: fullSend))),
        Sample(
            "failure with a bare partial send result",
            Response(id: .integer(3), outcome: .failure(bareError, partialResult: bareSend))),
    ]

    // MARK: Same JSON as the encoder

    @Test(arguments: strings)
    func stringsMatchTheEncoder(text: String) throws {
        let written = try Self.parse(Self.written(PingResult(data: text)))
        let reference = try JSONValue.parse(Self.encoded(PingResult(data: text)))
        #expect(written == reference)
        #expect(written["data"]?.string == text)
    }

    @Test(arguments: values)
    func valuesMatchTheEncoder(sample: Sample<any JSONWritable & Encodable>) throws {
        let written = try Self.parse(Self.written(sample.value))
        let reference = try JSONValue.parse(Self.encoded(sample.value))
        #expect(written == reference)
    }

    /// The dedup store keeps a send's result as `jsonText` and replays it to duplicates
    /// through `SendResult(json:)`: it must come back the same.
    @Test(arguments: [fullSend, bareSend, unknownSend])
    func sendResultTextDecodesToTheSameResult(result: SendResult) throws {
        #expect(result.jsonText == String(buffer: Self.written(result)))
        #expect(try SendResult(json: result.jsonText) == result)
        #expect(try JSONDecoder().decode(SendResult.self, from: Data(result.jsonText.utf8)) == result)
    }

    @Test(arguments: ["", "[]", "{}", #"{"outcome":"lost"}"#, #"{"outcome":"sent","recipients":[{"address":1}]}"#])
    func unreadableStoredResultsAreAnInternalError(text: String) {
        #expect(throws: SidecarError.self) { try SendResult(json: text) }
        #expect((try? SendResult(json: text)) == nil)
    }

    @Test(arguments: responses)
    func responsesMatchTheEncoder(sample: Sample<Response>) throws {
        let written = try Self.parse(sample.value.payload())
        #expect(written == (try Self.reference(sample.value)))
    }

    /// What the response's members are with its result and error through `JSONEncoder`.
    static func reference(_ response: Response) throws -> JSONValue {
        var members: [String: JSONValue] = [:]
        switch response.id {
        case .string(let value)?: members["id"] = .string(value)
        case .integer(let value)?: members["id"] = .integer(value)
        case nil: members["id"] = .null
        }
        let result: (any JSONWritable)?
        switch response.outcome {
        case .success(let value):
            members["ok"] = .bool(true)
            result = value
        case .failure(let error, let partial):
            members["ok"] = .bool(false)
            members["error"] = try JSONValue.parse(encoded(error))
            result = partial
        }
        if let result {
            let encodable = try #require(result as? any Encodable)
            members["result"] = try JSONValue.parse(encoded(encodable))
        }
        return .object(members)
    }

    /// The server writes `frame()`: the payload's exact bytes behind their length, as the
    /// frame encoder would have written them.
    @Test(arguments: responses)
    func framesAreTheLengthThenThePayload(sample: Sample<Response>) throws {
        var expected = ByteBuffer()
        try FrameEncoder().encode(data: sample.value.payload(), out: &expected)
        #expect(sample.value.frame() == expected)
    }

    // MARK: Exact bytes

    @Test func smallResponsesExactly() {
        #expect(
            String(buffer: Response.success(id: .string("a"), PingResult(data: nil)).payload())
                == #"{"id":"a","ok":true,"result":{"pong":true}}"#)
        #expect(
            String(buffer: Response.failure(id: nil, Self.bareError).payload())
                == #"{"id":null,"ok":false,"error":{"code":"invalid_json","message":"m","retryable":false}}"#)
        let partial = Response(
            id: .integer(-7),
            outcome: .failure(
                SidecarError(code: .recipientsRejected, message: "m", smtp: SMTPReply(code: 550, text: "no")),
                partialResult: SendResult(
                    outcome: .notSent, messageID: nil,
                    recipients: [.init(address: "a@x", accepted: false, smtp: nil)])))
        #expect(
            String(buffer: partial.payload())
                == #"{"id":-7,"ok":false,"error":{"code":"recipients_rejected","message":"m","retryable":false,"#
                + #""smtp":{"code":550,"text":"no"}},"#
                + #""result":{"outcome":"not_sent","recipients":[{"address":"a@x","accepted":false}],"duplicate":false}}"#)
    }

    @Test func escapesExactly() {
        var writer = JSONWriter(buffer: ByteBuffer())
        writer.string("a\"b\\c/d\ne\rf\tg\u{8}h\u{C}i\u{0}j\u{1F}k\u{7F}lé🦆")
        #expect(String(buffer: writer.buffer) == #""a\"b\\c/d\ne\rf\tg\bh\fi\u0000j\u001fk"# + "\u{7F}lé🦆\"")
    }

    @Test func integersExactly() {
        var writer = JSONWriter(buffer: ByteBuffer())
        writer.beginArray()
        for value in [0, 7, -1, 10, 1_234_567_890, .max, .min] as [Int64] {
            writer.int64(value)
        }
        writer.int(Int.min)
        writer.endArray()
        #expect(
            String(buffer: writer.buffer)
                == "[0,7,-1,10,1234567890,9223372036854775807,-9223372036854775808,-9223372036854775808]")
    }

    @Test func separatorsInNestedContainers() {
        var writer = JSONWriter(buffer: ByteBuffer(string: "prefix "))
        writer.beginObject()
        writer.key("a")
        writer.beginArray()
        writer.int(1)
        writer.beginObject()
        writer.endObject()
        writer.beginArray()
        writer.endArray()
        writer.null()
        writer.array([PingResult(data: nil), PingResult(data: "x")])
        writer.endArray()
        writer.member("absent", nil as String?)
        writer.member("b", true)
        writer.key("c")
        writer.beginObject()
        writer.member("absent", nil as Int?)
        writer.member("d", "e")
        writer.member("f", 2)
        writer.member("g", [PingResult]())
        writer.endObject()
        writer.endObject()
        #expect(
            String(buffer: writer.buffer)
                == #"prefix {"a":[1,{},[],null,[{"pong":true},{"pong":true,"data":"x"}]],"b":true,"c":{"d":"e","f":2,"g":[]}}"#)
    }

    // MARK: Which path

    @Test func writableResultsAreWrittenWithTheWriter() throws {
        let responses = [
            Response.success(id: .string("w"), Marked()),
            Response(id: .integer(2), outcome: .failure(Self.bareError, partialResult: Marked())),
        ]
        for response in responses {
            let written = try Self.parse(response.payload())
            #expect(written["result"] == .object(["via": .string("writer")]))
        }
    }
}

/// A result that says which path wrote it.
private struct Marked: JSONWritable, Encodable {
    func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("via", "writer")
        writer.endObject()
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(["via": "encoder"])
    }
}
