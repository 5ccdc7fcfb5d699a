import Foundation
import SidecarCore
import SidecarTestSupport
import Testing

@testable import SidecarProtocol

/// The fast path must never change what a payload decodes to: for every payload, the
/// public decoder's result equals the reference (Foundation `JSONDecoder`) result, and
/// the fast path takes the well-formed requests the daemon sees every day.
@Suite struct FastRequestDecoderTests {
    static let fullSend = #"""
        {"id":"s-1","op":"send","params":{
          "workspace_id":"ws_1",
          "credential":{"id":"cred_9","host":"smtp.example.com","port":587,"security":"starttls",
            "username":"apikey","password":"p@ss \"w0rd\"","access_token":"tok","auth":"login",
            "tls":{"min_version":"1.3","accept_unverified":true,"ca_pem":"-----BEGIN CERTIFICATE-----\nMIIB\n","server_name":"mx"},
            "client_name":"worker-1.example.com","limits":{"preset":"gmail","per_minute":10,"daily":500},
            "pipelining":false,"chunking":true},
          "from":"Alerts <alerts@example.com>",
          "to":"a@example.com, \"Doe, Jane\" <jane@example.com>",
          "cc":["c@example.com","d@example.com"],"bcc":"","reply_to":"r@example.com",
          "subject":"H\u00e9llo \ud83d\udc4b \/ \b\f\n\r\t \\ end","body_format":"html","text":"t","html":"<p>h</p>",
          "priority":"high","headers":[{"name":"X-Campaign","value":"q4","extra":1}],
          "attachments":[{"filename":"a.pdf","content_type":"application/pdf","content_base64":"JVBERg=="},
                         {"filename":"logo.png","url":"https://example.com/logo.png","content_id":"logo"}],
          "context":{"workflow_id":"wf","execution_id":"ex","node_id":"n1","trigger_email":"t@example.com","idempotency_key":"k"},
          "dedup_window_seconds":0,"dsn":{"notify":["failure","delay"],"ret":"headers","envelope_id":"e1"},
          "on_error":"continue","timeout_ms":30000,"future_field":[1.5,-2e10,{"x":null}]}}
        """#

    static let wellFormed: [String] = [
        fullSend,
        #"{"id":7,"op":"send","params":{"workspace_id":"w","credential_id":"c","to":["a@x.test"],"headers":{"X-B":"2","X-A":"1"}}}"#,
        #"{"op":"send","id":-12,"params":{"workspace_id":"w","credential":{"host":"h","password":null},"subject":null,"to":null}}"#,
        #"{"id":"p","op":"ping"}"#,
        #"{"id":"p","op":"ping","params":null}"#,
        #"{"id":"p","op":"ping","params":{"data":"\u0000\u001f\u00ff","delay_ms":5}}"#,
        #" { "id" : "h" , "op" : "hello" , "params" : { "versions" : [ 1 , 2 ] , "client" : "n8n/1" } } "#,
        #"{"id":"s","op":"stats","params":"anything at all"}"#,
        #"{"id":"v","op":"verify","params":{"workspace_id":"w","credential":{"host":"h","security":"tls","auth":"xoauth2"},"timeout_ms":1000}}"#,
        #"{"id":"\u00e9","op":"ping","params":{}}"#,
    ]

    @Test(arguments: wellFormed)
    func wellFormedRequestsTakeTheFastPathAndMatchTheReference(json: String) throws {
        let bytes = Array(json.utf8)
        let fast = bytes.withUnsafeBytes { FastRequestDecoder.decode($0) }
        let reference = RequestDecoder().decodeWithFoundation(Data(bytes))
        #expect(try #require(fast) == reference.get())
    }

    @Test func fullSendKeepsEveryValue() throws {
        let request = try #require(Array(Self.fullSend.utf8).withUnsafeBytes { FastRequestDecoder.decode($0) })
        guard case .send(let params) = request.operation else {
            Issue.record("not a send: \(request)")
            return
        }
        #expect(params.subject == "Héllo 👋 / \u{8}\u{c}\n\r\t \\ end")
        #expect(params.credential?.password == Secret(#"p@ss "w0rd""#))
        #expect(params.bcc == AddressList([]))
        #expect(params.credential?.tls?.caPEM == "-----BEGIN CERTIFICATE-----\nMIIB\n")
        #expect(params.credential?.pipelining == false)
        #expect(params.dsn?.notify == [.failure, .delay])
    }

    /// Payloads the fast path leaves to the reference, which decides (accepts or rejects).
    static let leftToReference: [String] = [
        #"{"id":"d","id":"e","op":"ping"}"#,
        #"{"id":"d","op":"send","params":{"workspace_id":"w","credential_id":"c","headers":{"X-A":"1","X-A":"2"}}}"#,
        #"{"id":"n","op":"send","params":{"workspace_id":"w","credential":{"host":"h","port":587.0}}}"#,
        #"{"id":"n","op":"send","params":{"workspace_id":"w","credential":{"host":"h","port":5.87e2}}}"#,
        #"{"id":"n","op":"send","params":{"workspace_id":"w","credential":{"host":"h","port":99999999999999999999}}}"#,
        #"{"id":"s","op":"ping","params":{"data":"\ud800"}}"#,
        #"{"id":"s","op":"ping","params":{"data":"\udc00x"}}"#,
        #"{"id":1.0,"op":"ping"}"#,
        #"{"id":"","op":"ping"}"#,
        #"{"id":null,"op":"ping"}"#,
        #"{"op":"ping"}"#,
        #"{"id":"x","op":"pong"}"#,
        #"{"id":"x","op":"send"}"#,
        #"{"id":"x","op":"send","params":{"workspace_id":"w","priority":"urgent"}}"#,
        #"{"id":"x","op":"send","params":{"workspace_id":"w","to":[null]}}"#,
        #"{"id":"x","op":"send","params":{"workspace_id":"w","headers":[{"name":"A"}]}}"#,
        #"{"id":"x","op":"hello","params":{"versions":[1,null]}}"#,
        #"{"id":"x","op":"ping","params":{"data":1}}"#,
        #"{"id":"x","op":"ping",}"#,
        #"{"id":"x","op":"ping"} x"#,
        #"[{"id":"x","op":"ping"}]"#,
        "{\"id\":\"x\",\"op\":\"ping\",\"params\":{\"data\":\"tab\tinside\"}}",
        "{\"id\":\"x\",\"op\":\"ping\",\"params\":{\"data\":\"0123456789abcdef\u{1}later\"}}",
        #"{"id":"x","op":"ping","params":{"delay_ms":01}}"#,
        String(repeating: "[", count: 100_000),
        #"{"id":"x","op":"ping","params":"# + String(repeating: #"{"a":"#, count: 70) + "1" + String(repeating: "}", count: 70) + "}",
        "",
        "nul",
    ]

    @Test(arguments: leftToReference)
    func unusualPayloadsAreLeftToTheReference(json: String) {
        let bytes = Array(json.utf8)
        #expect(bytes.withUnsafeBytes { FastRequestDecoder.decode($0) } == nil)
        #expect(RequestDecoder().decode(Data(bytes)) == RequestDecoder().decodeWithFoundation(Data(bytes)))
    }

    /// Thousands of small corruptions of well-formed requests (bytes deleted, inserted,
    /// replaced, values swapped for other types): whatever each decodes to, or fails with,
    /// the public decoder and the reference agree.
    @Test func corruptedRequestsDecodeExactlyAsTheReferenceDecodes() {
        var random = SplitMix64(seed: 0x5eed)
        let alphabet = Array(#"{}[]:,"\ 0123456789.eE-+tfnul/ux"#.utf8) + [0xC3, 0xA9, 0x00, 0x1F]
        let swaps = ["null", "1", "-1", "1.5", "\"\"", "\"x\"", "[]", "{}", "true", "[\"a\"]", "{\"name\":\"n\",\"value\":\"v\"}"]
        var fastAccepted = 0
        var mismatches: [String] = []
        for round in 0..<4000 {
            var bytes = Array(Self.wellFormed[round % Self.wellFormed.count].utf8)
            for _ in 0...(random.next() % 3) {
                let position = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 4 {
                case 0:
                    bytes.remove(at: position)
                case 1:
                    bytes.insert(alphabet[Int(random.next() % UInt64(alphabet.count))], at: position)
                case 2:
                    bytes[position] = alphabet[Int(random.next() % UInt64(alphabet.count))]
                default:
                    // Replace the value after a colon with another JSON value.
                    guard let colon = bytes[position...].firstIndex(of: UInt8(ascii: ":")) else { continue }
                    var end = colon + 1
                    var depth = 0
                    while end < bytes.count {
                        let byte = bytes[end]
                        if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") { depth += 1 }
                        if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                            if depth == 0 { break }
                            depth -= 1
                        }
                        if byte == UInt8(ascii: ","), depth == 0 { break }
                        end += 1
                    }
                    bytes.replaceSubrange((colon + 1)..<end, with: Array(swaps[Int(random.next() % UInt64(swaps.count))].utf8))
                }
                if bytes.isEmpty { break }
            }
            if bytes.withUnsafeBytes({ FastRequestDecoder.decode($0) }) != nil { fastAccepted += 1 }
            let decoded = RequestDecoder().decode(Data(bytes))
            let reference = RequestDecoder().decodeWithFoundation(Data(bytes))
            let validUTF8 = String(validating: bytes, as: UTF8.self) != nil
            if validUTF8 ? decoded != reference : decoded != .failure(.init(id: nil, error: RequestDecoder.invalidJSON)) {
                mismatches.append(String(decoding: bytes, as: UTF8.self))
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) differ, first: \(mismatches.prefix(3))")
        // The corruptions must not all be rejected, or the comparison proves little.
        #expect(fastAccepted > 400, "the fast path accepted only \(fastAccepted) of 4000")
    }

    @Test func utf8CheckFindsBadBytesAfterLongASCIIRuns() {
        for length in 0..<40 {
            let ascii = Array(repeating: UInt8(ascii: "a"), count: length)
            #expect((ascii + [0xC3, 0xA9]).withUnsafeBytes { RequestDecoder.isValidUTF8($0) })
            #expect(!(ascii + [0xC3]).withUnsafeBytes { RequestDecoder.isValidUTF8($0) })
            #expect(!(ascii + [0xFF] + ascii).withUnsafeBytes { RequestDecoder.isValidUTF8($0) })
            #expect(!(ascii + [0xED, 0xA0, 0x80]).withUnsafeBytes { RequestDecoder.isValidUTF8($0) })
        }
    }
}
