import Foundation
import SidecarCore
import SidecarTestSupport
import Testing

@testable import SidecarProtocol

/// Payloads that crashed the daemon or reached arithmetic unchecked (issue 21, items 0 and
/// 0b): every one is answered with an error code, by the one decoder, and never traps.
@Suite struct HostileInputTests {
    func decode(_ bytes: [UInt8]) -> Result<Request, RequestDecodingFailure> {
        RequestDecoder().decode(Data(bytes))
    }

    func decode(_ json: String) -> Result<Request, RequestDecodingFailure> {
        decode(Array(json.utf8))
    }

    /// 513 opening brackets crashed Foundation's JSONDecoder, the fallback behind the
    /// daemon's parser; 512 and 514 did not. Now nothing deeper than 64 levels is parsed.
    @Test(arguments: [63, 64, 65, 512, 513, 514, 100_000])
    func deepArraysAreInvalidJSON(depth: Int) {
        let result = decode(Array(repeating: UInt8(ascii: "["), count: depth))
        #expect(result.failure?.id == nil)
        #expect(result.failureError?.code == .invalidJSON)
    }

    @Test(arguments: [65, 512, 513, 514, 5000])
    func deepObjectsAreInvalidJSONEvenWhenClosed(depth: Int) {
        let json = String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth)
        #expect(decode(json).failureError?.code == .invalidJSON)
        let open = String(repeating: #"{"a":"#, count: depth)
        #expect(decode(open).failureError?.code == .invalidJSON)
    }

    @Test func nestingUpToTheLimitIsParsed() {
        // 62 levels inside params (2 more for the request and params objects): ignored member.
        let deep = String(repeating: "[", count: 62) + String(repeating: "]", count: 62)
        let result = decode(#"{"id":1,"op":"ping","params":{"x":\#(deep)}}"#)
        #expect((try? result.get())?.id == .integer(1))
    }

    /// dedup_window_seconds of 2^62 trapped in DedupStore; every number is bounded here.
    @Test(arguments: [
        ("dedup_window_seconds", "4611686018427387904"), ("dedup_window_seconds", "9223372036854775"),
        ("dedup_window_seconds", "9223372036854775807"), ("dedup_window_seconds", "9223372036854775808"),
        ("dedup_window_seconds", "-1"), ("dedup_window_seconds", "2592001"), ("dedup_window_seconds", "1e3"),
        ("dedup_window_seconds", "3600.0"), ("timeout_ms", "0"), ("timeout_ms", "-9223372036854775808"),
        ("timeout_ms", "3600001"), ("timeout_ms", "99999999999999999999999"),
    ])
    func outOfRangeNumbersAreRefusedByName(member: String, value: String) {
        let json = #"{"id":"n","op":"send","params":{"workspace_id":"w","credential_id":"c","\#(member)":\#(value)}}"#
        let failure = decode(json).failure
        #expect(failure?.id == .string("n"))
        #expect(failure?.error.code == .invalidParams)
        #expect(failure?.error.field == "params.\(member)")
    }

    @Test func theBoundsThemselvesAreAccepted() throws {
        let json = #"{"id":"n","op":"send","params":{"workspace_id":"w","credential":{"host":"h","port":65535,"limits":{"per_minute":100000,"daily":10000000}},"dedup_window_seconds":2592000,"timeout_ms":3600000}}"#
        guard case .send(let params) = try decode(json).get().operation else {
            Issue.record("not a send")
            return
        }
        #expect(params.dedupWindowSeconds == 2_592_000 && params.timeoutMs == 3_600_000)
        #expect(params.credential?.limits?.daily == 10_000_000)
    }

    @Test(arguments: [
        (#"{"id":"x","op":"ping","params":{"delay_ms":1.5}}"#, "params.delay_ms"),
        (#"{"id":"x","op":"ping","params":{"delay_ms":10001}}"#, "params.delay_ms"),
        (#"{"id":"x","op":"ping","params":{"delay_ms":-1}}"#, "params.delay_ms"),
        (#"{"id":"x","op":"hello","params":{"versions":[1,99999999999]}}"#, "params.versions[1]"),
        (#"{"id":"x","op":"verify","params":{"workspace_id":"w","credential":{"host":"h","port":587.0}}}"#, "params.credential.port"),
        (#"{"id":"x","op":"verify","params":{"workspace_id":"w","credential":{"host":"h","limits":{"per_minute":0}}}}"#, "params.credential.limits.per_minute"),
    ])
    func nonIntegersAndOutOfRangeIntegersNameTheirField(json: String, field: String) {
        let failure = decode(json).failure
        #expect(failure?.error.code == .invalidParams)
        #expect(failure?.error.field == field)
    }

    @Test(arguments: [
        #"{"id":"d","id":"e","op":"ping"}"#,
        #"{"id":"d","op":"ping","params":{"data":"\ud800"}}"#,
        #"{"id":"d","op":"ping","params":{"data":"\udc00x"}}"#,
        #"{"id":"x","op":"ping",}"#,
        #"{"id":"x","op":"ping"} x"#,
        #"{"id":"x","op":"ping","params":{"delay_ms":01}}"#,
        "{\"id\":\"x\",\"op\":\"ping\",\"params\":{\"data\":\"tab\tinside\"}}",
        "",
        "nul",
    ])
    func malformedJSONIsInvalidJSON(json: String) {
        #expect(decode(json).failure?.id == nil)
        #expect(decode(json).failureError?.code == .invalidJSON)
    }

    @Test func manyMembersAndRepeatsAmongThemAreHandled() throws {
        let members = (0..<500).map { #""m\#($0)":\#($0)"# }.joined(separator: ",")
        #expect(throws: Never.self) { try decode(#"{"id":1,"op":"ping","params":{\#(members)}}"#).get() }
        #expect(decode(#"{"id":1,"op":"ping","params":{\#(members),"m250":1}}"#).failureError?.code == .invalidJSON)
    }

    /// Thousands of random corruptions of requests: each is decoded or refused with one of
    /// the decoder's codes, and an id is echoed only when the failure is past the id.
    @Test func corruptedRequestsAreDecodedOrRefusedNeverTrapped() {
        let seeds = [
            #"{"id":"s-1","op":"send","params":{"workspace_id":"w","credential":{"host":"h","port":587,"limits":{"daily":5}},"to":["a@x.test"],"headers":[{"name":"X-A","value":"1"}],"attachments":[{"filename":"a","content_base64":"YQ=="}],"dedup_window_seconds":60,"timeout_ms":1000}}"#,
            #"{"id":7,"op":"ping","params":{"data":"x","delay_ms":5}}"#,
            #"{"id":"h","op":"hello","params":{"versions":[1,2]}}"#,
        ]
        var random = SplitMix64(seed: 0x5eed)
        let alphabet = Array(#"{}[]:,"\ 0123456789.eE-+tfnul/ux"#.utf8) + [0xC3, 0xA9, 0x00, 0x1F]
        let codes: Set<ErrorCode> = [.invalidJSON, .notAnObject, .missingID, .unknownOperation, .invalidParams]
        var accepted = 0
        for round in 0..<4000 {
            var bytes = Array(seeds[round % seeds.count].utf8)
            for _ in 0...(random.next() % 3) where !bytes.isEmpty {
                let position = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 3 {
                case 0: bytes.remove(at: position)
                case 1: bytes.insert(alphabet[Int(random.next() % UInt64(alphabet.count))], at: position)
                default: bytes[position] = alphabet[Int(random.next() % UInt64(alphabet.count))]
                }
            }
            switch decode(bytes) {
            case .success: accepted += 1
            case .failure(let failure):
                #expect(codes.contains(failure.error.code))
                #expect((failure.id != nil) == [.unknownOperation, .invalidParams].contains(failure.error.code))
            }
        }
        #expect(accepted > 100, "only \(accepted) of 4000 corruptions decoded: the test proves little")
    }
}

extension Result where Failure == RequestDecodingFailure {
    var failure: RequestDecodingFailure? {
        guard case .failure(let failure) = self else { return nil }
        return failure
    }

    var failureError: SidecarError? { failure?.error }
}
