import Foundation
import NIOCore
import SidecarCore
import SidecarProtocol
import Testing

@Suite struct RequestDecoderTests {
    func decode(_ json: String) -> Result<Request, RequestDecodingFailure> {
        RequestDecoder().decode(Data(json.utf8))
    }

    @Test func fullSendRequestDecodesEveryField() throws {
        let json = """
            {"id":"s-1","op":"send","params":{
              "workspace_id":"ws_1",
              "credential":{"id":"cred_9","host":"smtp.example.com","port":587,"security":"starttls",
                "username":"apikey","password":"p@ss w0rd","auth":"login",
                "tls":{"min_version":"1.3","accept_unverified":true,"ca_pem":"-----BEGIN CERTIFICATE-----"},
                "client_name":"worker-1.example.com","pipelining":false,"max_messages_per_connection":10},
              "from":"Alerts <alerts@example.com>",
              "to":"a@example.com, \\"Doe, Jane\\" <jane@example.com>",
              "cc":["c@example.com"],"bcc":"b@example.com","reply_to":"r@example.com",
              "subject":"Hi","body_format":"html","text":"t","html":"<p>h</p>","priority":"high",
              "headers":[{"name":"X-Campaign","value":"q4"}],
              "attachments":[{"filename":"a.pdf","content_type":"application/pdf","content_base64":"JVBERg=="},
                             {"filename":"logo.png","url":"https://example.com/logo.png","content_id":"logo"}],
              "context":{"workflow_id":"wf","execution_id":"ex","node_id":"n1","trigger_email":"t@example.com","idempotency_key":"k"},
              "dedup_window_seconds":0,"dsn":{"notify":["failure","delay"],"ret":"headers","envelope_id":"e1"},
              "on_error":"continue","timeout_ms":30000}}
            """
        let request = try decode(json).get()
        guard case .send(let params) = request.operation else {
            Issue.record("not a send: \(request)")
            return
        }
        #expect(request.id == .string("s-1"))
        #expect(params.workspaceID == "ws_1")
        let credential = try #require(params.credential)
        #expect(credential.port == 587 && credential.security == .starttls && credential.auth == .login)
        #expect(credential.password?.revealedValue == "p@ss w0rd")
        #expect(credential.tls?.minVersion == .tls13 && credential.tls?.acceptUnverified == true)
        #expect(credential.pipelining == false && credential.chunking == nil && credential.maxMessagesPerConnection == 10)
        #expect(params.to?.entries == ["a@example.com, \"Doe, Jane\" <jane@example.com>"])
        #expect(params.cc?.entries == ["c@example.com"])
        #expect(params.bcc?.entries == ["b@example.com"])
        #expect(params.bodyFormat == .html && params.priority == .high && params.onError == .continue)
        #expect(params.headers?.fields == [.init(name: "X-Campaign", value: "q4")])
        #expect(params.attachments?.count == 2)
        #expect(params.attachments?[1].contentID == "logo")
        #expect(params.context?.triggerEmail == "t@example.com")
        #expect(params.dsn?.notify == [.failure, .delay])
        #expect(params.dedupWindowSeconds == 0 && params.timeoutMs == 30000)
        // The decoded request never renders the password.
        #expect(!"\(request)".contains("p@ss w0rd"))
    }

    @Test func headersAsAnObjectKeepTheirOrder() throws {
        let request = try decode(#"{"id":1,"op":"send","params":{"workspace_id":"w","credential_id":"c","headers":{"X-B":"2","X-A":"1"}}}"#).get()
        guard case .send(let params) = request.operation else { return }
        #expect(params.headers?.fields == [.init(name: "X-B", value: "2"), .init(name: "X-A", value: "1")])
    }

    @Test func wrongTypeDeepInsideNamesThePath() {
        let result = decode(#"{"id":"d","op":"send","params":{"workspace_id":"w","credential_id":"c","attachments":[{"filename":"a","url":"https://x.test/a"},{"filename":7}]}}"#)
        guard case .failure(let failure) = result else {
            Issue.record("decoded")
            return
        }
        #expect(failure.id == .string("d"))
        #expect(failure.error.code == .invalidParams)
        #expect(failure.error.field == "params.attachments[1].filename")
    }

    @Test func passwordOfTheWrongTypeIsNotEchoed() {
        let result = decode(#"{"id":"p","op":"verify","params":{"workspace_id":"w","credential":{"host":"h","password":12345678}}}"#)
        guard case .failure(let failure) = result else {
            Issue.record("decoded")
            return
        }
        #expect(failure.error.field == "params.credential.password")
        #expect(!failure.error.message.contains("12345678"))
    }

    /// Item 8: entries of lists and headers are named by their 0-based index.
    @Test(arguments: [
        (#""to":["a@x.test",5]"#, "params.to[1]"),
        (#""cc":["a@x.test","b@x.test",null]"#, "params.cc[2]"),
        (#""to":7"#, "params.to"),
        (#""headers":[{"name":"A","value":"1"},{"name":"B","value":"2"},{"name":"C","value":3}]"#, "params.headers[2].value"),
        (#""headers":[{"name":"A","value":"1"},{"value":"2"}]"#, "params.headers[1].name"),
        (#""headers":{"A":"1","B":"2","C":false}"#, "params.headers[2].value"),
        (#""attachments":[{"filename":"a","url":"u"},{"filename":"b"}]"#, "params.attachments[1].content_base64"),
        (#""attachments":[{"filename":"a","url":"u","content_base64":"YQ=="}]"#, "params.attachments[0].url"),
        (#""dsn":{"notify":["success","sometimes"]}"#, "params.dsn.notify[1]"),
    ])
    func entriesAreNamedByTheirIndex(member: String, field: String) {
        let result = decode(#"{"id":"i","op":"send","params":{"workspace_id":"w","credential_id":"c",\#(member)}}"#)
        guard case .failure(let failure) = result else {
            Issue.record("decoded")
            return
        }
        #expect(failure.error.code == .invalidParams)
        #expect(failure.error.field == field)
    }

    @Test(arguments: [
        (#""credential":{"host":"h"},"credential_id":"c""#, "params.credential_id"),
        (#""to":"a@x.test""#, "params.credential"),
        (#""credential_id":"""#, "params.credential_id"),
        (#""credential":{"host":""}"#, "params.credential.host"),
    ])
    func exactlyOneCredentialIsRequired(members: String, field: String) {
        for op in ["send", "verify"] {
            let result = decode(#"{"id":"c","op":"\#(op)","params":{"workspace_id":"w",\#(members)}}"#)
            guard case .failure(let failure) = result else {
                Issue.record("decoded")
                return
            }
            #expect(failure.error.code == .invalidParams)
            #expect(failure.error.field == field)
        }
    }

    /// Lengths are Unicode code points, as JSON Schema's maxLength counts: 64 "é" written
    /// as e + U+0301 are 64 characters but 128 code points.
    @Test func idLengthCountsCodePoints() throws {
        let decomposed = String(repeating: "e\u{301}", count: 64)
        #expect(try decode(#"{"id":"\#(decomposed)","op":"ping"}"#).get().id == .string(decomposed))
        guard case .failure(let failure) = decode(#"{"id":"\#(decomposed)a","op":"ping"}"#) else {
            Issue.record("129 code points accepted")
            return
        }
        #expect(failure.error.code == .missingID)
        #expect(failure.id == nil)
    }

    @Test(arguments: [String(repeating: "i", count: 128)])
    func longestStringIDIsAccepted(id: String) throws {
        let request = try decode(#"{"id":"\#(id)","op":"ping"}"#).get()
        #expect(request.id == .string(id))
        guard case .failure(let failure) = decode(#"{"id":"\#(id)x","op":"ping"}"#) else {
            Issue.record("129 characters accepted")
            return
        }
        #expect(failure.error.code == .missingID)
    }

    @Test func responseEncodingEchoesIDAndOmitsResultOnError() throws {
        let ok = Response.success(id: .integer(7), PingResult(data: "d")).payload()
        let okObject = try #require(try JSONSerialization.jsonObject(with: Data(ok.readableBytesView)) as? [String: Any])
        #expect(okObject["id"] as? Int == 7)
        #expect(okObject["ok"] as? Bool == true)
        #expect((okObject["result"] as? [String: Any])?["data"] as? String == "d")
        #expect(okObject["error"] == nil)
        let failure = Response.failure(id: nil, SidecarError(code: .invalidJSON, message: "m")).payload()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(failure.readableBytesView)) as? [String: Any])
        #expect(object["id"] is NSNull)
        #expect(object["ok"] as? Bool == false)
        #expect(object["result"] == nil)
        #expect((object["error"] as? [String: Any])?["code"] as? String == "invalid_json")
    }

    @Test func clientEncodingRevealsSecretsButResponsesDoNot() throws {
        let params = VerifyParams(workspaceID: "w", credential: CredentialParams(host: "h", password: Secret("s3cr3t")))
        let outgoing = try OutgoingRequest(id: .integer(1), op: "verify", params: params).payload()
        #expect(String(buffer: outgoing).contains("s3cr3t"))
        // A response is written only from JSONWritable values, and neither parameters nor
        // a Secret is one: a secret cannot be written into a response at all.
        #expect(!(params as Any is any JSONWritable))
        #expect(!(Secret("s3cr3t") as Any is any JSONWritable))
    }
}
