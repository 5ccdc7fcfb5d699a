import SidecarCore

/// The fast path of ``RequestDecoder``: parses a payload with ``JSONParser`` and builds
/// the ``Request`` directly, with none of `Codable`'s generic machinery (perf: Foundation's
/// `JSONDecoder` was about 12% of the daemon's CPU per send).
///
/// It handles well-formed requests only. On anything else it returns `nil` and
/// ``RequestDecoder`` decodes the payload with `JSONDecoder`, which is the reference: for
/// every payload the fast path accepts it must build the same request (a differential
/// test checks this), and every error comes from the reference path, with its message.
enum FastRequestDecoder {
    typealias Unsupported = JSONParser.Unsupported

    static func decode(_ bytes: UnsafeRawBufferPointer) -> Request? {
        try? request(try JSONParser.parse(bytes))
    }

    static func request(_ node: JSONNode) throws(Unsupported) -> Request {
        let envelope = try JSONObjectReader(node)
        guard let idNode = envelope.node("id"), let opName = try envelope.string("op"),
            let name = OperationName(rawValue: opName)
        else { throw Unsupported() }
        let id: RequestID
        switch idNode {
        case .string(let value):
            guard (1...RequestID.maxStringLength).contains(value.count) else { throw Unsupported() }
            id = .string(value)
        case .integer(let value):
            id = .integer(Int64(value))
        default:
            throw Unsupported()
        }
        let params = envelope.node("params")
        let operation: Operation
        switch name {
        case .hello:
            operation = .hello(try params.map(hello) ?? HelloParams())
        case .ping:
            operation = .ping(try params.map(ping) ?? PingParams())
        case .stats:
            operation = .stats
        case .send:
            guard let params else { throw Unsupported() }
            operation = .send(try send(params))
        case .verify:
            guard let params else { throw Unsupported() }
            operation = .verify(try verify(params))
        }
        return Request(id: id, operation: operation)
    }

    static func hello(_ node: JSONNode) throws(Unsupported) -> HelloParams {
        let object = try JSONObjectReader(node)
        return HelloParams(versions: try object.array("versions", JSONObjectReader.int), client: try object.string("client"))
    }

    static func ping(_ node: JSONNode) throws(Unsupported) -> PingParams {
        let object = try JSONObjectReader(node)
        return PingParams(data: try object.string("data"), delayMs: try object.int("delay_ms"))
    }

    static func verify(_ node: JSONNode) throws(Unsupported) -> VerifyParams {
        let object = try JSONObjectReader(node)
        return VerifyParams(
            workspaceID: try object.requiredString("workspace_id"),
            credential: try object.node("credential").map(credential),
            credentialID: try object.string("credential_id"), timeoutMs: try object.int("timeout_ms"))
    }

    static func send(_ node: JSONNode) throws(Unsupported) -> SendParams {
        let object = try JSONObjectReader(node)
        var params = SendParams(
            workspaceID: try object.requiredString("workspace_id"),
            credential: try object.node("credential").map(credential),
            credentialID: try object.string("credential_id"))
        params.from = try object.string("from")
        params.to = try object.node("to").map(addresses)
        params.cc = try object.node("cc").map(addresses)
        params.bcc = try object.node("bcc").map(addresses)
        params.replyTo = try object.string("reply_to")
        params.subject = try object.string("subject")
        params.bodyFormat = try object.value("body_format", as: SendParams.BodyFormat.self)
        params.text = try object.string("text")
        params.html = try object.string("html")
        params.priority = try object.value("priority", as: SendParams.Priority.self)
        params.headers = try object.node("headers").map(headers)
        params.attachments = try object.array("attachments", attachment)
        if let context = try object.object("context") {
            params.context = SendParams.Context(
                workflowID: try context.string("workflow_id"), executionID: try context.string("execution_id"),
                nodeID: try context.string("node_id"), triggerEmail: try context.string("trigger_email"),
                idempotencyKey: try context.string("idempotency_key"))
        }
        params.dedupWindowSeconds = try object.int("dedup_window_seconds")
        if let dsn = try object.object("dsn") {
            params.dsn = SendParams.DSN(
                notify: try dsn.array("notify") { node throws(Unsupported) in
                    try JSONObjectReader.value(node, as: SendParams.DSN.Notify.self)
                },
                ret: try dsn.value("ret", as: SendParams.DSN.Return.self), envelopeID: try dsn.string("envelope_id"))
        }
        params.onError = try object.value("on_error", as: SendParams.OnError.self)
        params.timeoutMs = try object.int("timeout_ms")
        return params
    }

    static func credential(_ node: JSONNode) throws(Unsupported) -> CredentialParams {
        let object = try JSONObjectReader(node)
        var tls: CredentialParams.TLSOptions?
        if let options = try object.object("tls") {
            tls = CredentialParams.TLSOptions(
                minVersion: try options.value("min_version", as: CredentialParams.TLSOptions.MinimumVersion.self),
                acceptUnverified: try options.bool("accept_unverified"), caPEM: try options.string("ca_pem"),
                serverName: try options.string("server_name"))
        }
        var limits: CredentialParams.Limits?
        if let limitsObject = try object.object("limits") {
            limits = CredentialParams.Limits(
                preset: try limitsObject.string("preset"), perMinute: try limitsObject.int("per_minute"),
                daily: try limitsObject.int("daily"))
        }
        return CredentialParams(
            id: try object.string("id"), host: try object.requiredString("host"), port: try object.int("port"),
            security: try object.value("security", as: CredentialParams.Security.self),
            username: try object.string("username"), password: try object.string("password").map(Secret.init),
            accessToken: try object.string("access_token").map(Secret.init),
            auth: try object.value("auth", as: CredentialParams.AuthMechanism.self), tls: tls,
            clientName: try object.string("client_name"), limits: limits, pipelining: try object.bool("pipelining"),
            chunking: try object.bool("chunking"))
    }

    /// One string (empty means none) or an array of strings, as ``AddressList`` decodes.
    static func addresses(_ node: JSONNode) throws(Unsupported) -> AddressList {
        switch node {
        case .string(let single):
            return AddressList(single.isEmpty ? [] : [single])
        case .array(let nodes):
            var entries: [String] = []
            entries.reserveCapacity(nodes.count)
            for node in nodes {
                entries.append(try JSONObjectReader.string(node))
            }
            return AddressList(entries)
        default:
            throw Unsupported()
        }
    }

    /// An array of `{"name", "value"}` or an object of name to value (sorted by name), as
    /// ``HeaderList`` decodes.
    static func headers(_ node: JSONNode) throws(Unsupported) -> HeaderList {
        switch node {
        case .array(let nodes):
            var fields: [HeaderList.Field] = []
            fields.reserveCapacity(nodes.count)
            for node in nodes {
                let field = try JSONObjectReader(node)
                fields.append(HeaderList.Field(name: try field.requiredString("name"), value: try field.requiredString("value")))
            }
            return HeaderList(fields)
        case .object(let members):
            var fields: [HeaderList.Field] = []
            fields.reserveCapacity(members.count)
            for member in members {
                fields.append(HeaderList.Field(name: member.key, value: try JSONObjectReader.string(member.value)))
            }
            fields.sort { $0.name < $1.name }
            return HeaderList(fields)
        default:
            throw Unsupported()
        }
    }

    static func attachment(_ node: JSONNode) throws(Unsupported) -> AttachmentParams {
        let object = try JSONObjectReader(node)
        return AttachmentParams(
            filename: try object.requiredString("filename"), contentType: try object.string("content_type"),
            contentBase64: try object.string("content_base64"), url: try object.string("url"),
            contentID: try object.string("content_id"))
    }
}
