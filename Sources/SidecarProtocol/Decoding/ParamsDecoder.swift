import SidecarCore

/// Builds each operation's parameters from parsed JSON, enforcing every constraint of
/// `proto-spec/schema/`: types, required members, enums, string lengths, number bounds
/// (``RequestBounds``) and the "exactly one of" rules. Each failure is `invalid_params`
/// naming the member's JSON path.
enum ParamsDecoder {
    static func hello(_ node: JSONNode) throws(SidecarError) -> HelloParams {
        let object = try ParamsReader(node, path: "params")
        return HelloParams(
            versions: try object.array("versions", maxCount: RequestBounds.maxVersions) { node, path throws(SidecarError) in
                try ParamsReader.int(node, path: path, in: RequestBounds.version)
            },
            client: try object.string("client", length: RequestBounds.clientLength))
    }

    static func ping(_ node: JSONNode) throws(SidecarError) -> PingParams {
        let object = try ParamsReader(node, path: "params")
        return PingParams(data: try object.string("data"), delayMs: try object.int("delay_ms", in: RequestBounds.delayMs))
    }

    static func credentialStatus(_ node: JSONNode) throws(SidecarError) -> CredentialStatusParams {
        let object = try ParamsReader(node, path: "params")
        return CredentialStatusParams(
            credentialID: try object.string("credential_id", length: RequestBounds.identifierLength),
            workspaceID: try object.string("workspace_id", length: RequestBounds.identifierLength))
    }

    static func verify(_ node: JSONNode) throws(SidecarError) -> VerifyParams {
        let object = try ParamsReader(node, path: "params")
        let workspaceID = try object.requiredString("workspace_id", length: RequestBounds.identifierLength)
        let (credential, credentialID) = try credentialChoice(object)
        return VerifyParams(
            workspaceID: workspaceID, credential: credential, credentialID: credentialID,
            timeoutMs: try object.int("timeout_ms", in: RequestBounds.timeoutMs))
    }

    static func send(_ node: JSONNode) throws(SidecarError) -> SendParams {
        let object = try ParamsReader(node, path: "params")
        let workspaceID = try object.requiredString("workspace_id", length: RequestBounds.identifierLength)
        let (credential, credentialID) = try credentialChoice(object)
        var params = SendParams(workspaceID: workspaceID, credential: credential, credentialID: credentialID)
        params.from = try object.string("from")
        params.to = try addresses(object, "to")
        params.cc = try addresses(object, "cc")
        params.bcc = try addresses(object, "bcc")
        params.replyTo = try object.string("reply_to")
        params.subject = try object.string("subject")
        params.bodyFormat = try object.value("body_format", as: SendParams.BodyFormat.self)
        params.text = try object.string("text")
        params.html = try object.string("html")
        params.priority = try object.value("priority", as: SendParams.Priority.self)
        params.headers = try headers(object)
        params.attachments = try object.array("attachments") { node, path throws(SidecarError) in
            try attachment(node, path: path)
        }
        if let context = try object.object("context") {
            params.context = SendParams.Context(
                workflowID: try context.string("workflow_id"), executionID: try context.string("execution_id"),
                nodeID: try context.string("node_id"), triggerEmail: try context.string("trigger_email"),
                idempotencyKey: try context.string("idempotency_key"))
        }
        params.dedupWindowSeconds = try object.int("dedup_window_seconds", in: RequestBounds.dedupWindowSeconds)
        if let dsn = try object.object("dsn") {
            params.dsn = SendParams.DSN(
                notify: try dsn.array("notify") { node, path throws(SidecarError) in
                    try ParamsReader.value(node, path: path, as: SendParams.DSN.Notify.self)
                },
                ret: try dsn.value("ret", as: SendParams.DSN.Return.self),
                envelopeID: try dsn.string("envelope_id", length: RequestBounds.envelopeIDLength))
        }
        params.onError = try object.value("on_error", as: SendParams.OnError.self)
        params.timeoutMs = try object.int("timeout_ms", in: RequestBounds.timeoutMs)
        return params
    }

    /// Exactly one of `credential` and `credential_id`: neither names `params.credential`
    /// (the first choice is missing), both name `params.credential_id` (the second is extra).
    static func credentialChoice(_ object: ParamsReader) throws(SidecarError) -> (CredentialParams?, String?) {
        let credential = try object.object("credential").map { reader throws(SidecarError) in try self.credential(reader) }
        let credentialID = try object.string("credential_id", length: RequestBounds.identifierLength)
        switch (credential, credentialID) {
        case (nil, nil):
            throw SidecarError(
                code: .invalidParams, message: "The request needs a \"credential\" or a \"credential_id\".",
                field: object.path("credential"))
        case (.some, .some):
            throw SidecarError(
                code: .invalidParams, message: "Give either \"credential\" or \"credential_id\", not both.",
                field: object.path("credential_id"))
        case (.some, nil), (nil, .some):
            return (credential, credentialID)
        }
    }

    static func credential(_ object: ParamsReader) throws(SidecarError) -> CredentialParams {
        var tls: CredentialParams.TLSOptions?
        if let options = try object.object("tls") {
            tls = CredentialParams.TLSOptions(
                minVersion: try options.value("min_version", as: CredentialParams.TLSOptions.MinimumVersion.self),
                acceptUnverified: try options.bool("accept_unverified"), caPEM: try options.string("ca_pem"),
                serverName: try options.string("server_name", length: RequestBounds.hostLength))
        }
        var limits: CredentialParams.Limits?
        if let limitsObject = try object.object("limits") {
            let read = CredentialParams.Limits(
                preset: try limitsObject.string("preset"),
                perMinute: try limitsObject.int("per_minute", in: RequestBounds.perMinute),
                daily: try limitsObject.int("daily", in: RequestBounds.daily))
            try read.validate(path: limitsObject.path)
            limits = read
        }
        return CredentialParams(
            id: try object.string("id", length: RequestBounds.identifierLength),
            host: try object.requiredString("host", length: RequestBounds.hostLength),
            port: try object.int("port", in: RequestBounds.port),
            security: try object.value("security", as: CredentialParams.Security.self),
            username: try object.string("username"), password: try object.string("password").map(Secret.init),
            accessToken: try object.string("access_token").map(Secret.init),
            auth: try object.value("auth", as: CredentialParams.AuthMechanism.self), tls: tls,
            clientName: try object.string("client_name", length: RequestBounds.clientNameLength), limits: limits,
            pipelining: try object.bool("pipelining"), chunking: try object.bool("chunking"),
            maxMessagesPerConnection: try object.int("max_messages_per_connection", in: RequestBounds.messagesPerConnection))
    }

    /// One string (empty means none) or an array of strings.
    static func addresses(_ object: ParamsReader, _ key: String) throws(SidecarError) -> AddressList? {
        guard let node = object.node(key) else { return nil }
        switch node {
        case .string(let single):
            return AddressList(single.isEmpty ? [] : [single], isArray: false)
        case .array:
            let entries = try object.array(key) { node, path throws(SidecarError) in
                try ParamsReader.string(node, path: path)
            }
            return AddressList(entries ?? [], isArray: true)
        case .object, .integer, .number, .bool, .null:
            throw ParamsReader.invalid(object.path(key), "must be a string or an array of strings, not \(node.kind)")
        }
    }

    /// An array of `{"name", "value"}` or an object of name to value, in the order written.
    static func headers(_ object: ParamsReader) throws(SidecarError) -> HeaderList? {
        guard let node = object.node("headers") else { return nil }
        let path = object.path("headers")
        switch node {
        case .array:
            let fields = try object.array("headers") { node, path throws(SidecarError) in
                let field = try ParamsReader(node, path: path)
                return HeaderList.Field(name: try field.requiredString("name"), value: try field.requiredString("value"))
            }
            return HeaderList(fields ?? [])
        case .object(let members):
            var fields: [HeaderList.Field] = []
            fields.reserveCapacity(members.count)
            for (index, member) in members.enumerated() {
                let value = try ParamsReader.string(member.value, path: "\(path)[\(index)].value")
                fields.append(HeaderList.Field(name: member.key, value: value))
            }
            return HeaderList(fields)
        case .string, .integer, .number, .bool, .null:
            throw ParamsReader.invalid(path, "must be an array of {\"name\", \"value\"} objects or an object, not \(node.kind)")
        }
    }

    /// One attachment, with exactly one of `content_base64` and `url`: neither names
    /// `content_base64` (missing), both name `url` (extra).
    static func attachment(_ node: JSONNode, path: String) throws(SidecarError) -> AttachmentParams {
        let object = try ParamsReader(node, path: path)
        let attachment = AttachmentParams(
            filename: try object.requiredString("filename"), contentType: try object.string("content_type"),
            contentBase64: try object.string("content_base64"), url: try object.string("url"),
            contentID: try object.string("content_id"))
        switch (attachment.contentBase64, attachment.url) {
        case (nil, nil):
            throw SidecarError(
                code: .invalidParams,
                message: "The attachment \(path) has no content: give \"content_base64\" or \"url\".",
                field: object.path("content_base64"))
        case (.some, .some):
            throw SidecarError(
                code: .invalidParams,
                message: "The attachment \(path) has both \"content_base64\" and \"url\": give exactly one.",
                field: object.path("url"))
        case (.some, nil), (nil, .some):
            return attachment
        }
    }
}
