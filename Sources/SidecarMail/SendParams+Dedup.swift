import SidecarCore
import SidecarProtocol
import SidecarState

extension SendParams {
    /// What makes two sends "the same" for duplicate suppression: an explicit idempotency
    /// key, or else the workspace, credential, workflow node, envelope, headers, bodies and
    /// attachments (their bytes as sent, or their URLs).
    func dedupKey(credential: CredentialParams) -> String {
        if let key = context?.idempotencyKey, !key.isEmpty {
            return DedupKey.idempotency(workspace: workspaceID, key: key)
        }
        var key = DedupKey()
        key.add("workspace", workspaceID)
        key.add("credential", credential.id ?? credentialID)
        key.add("server", "\(credential.host.lowercased()):\(credential.port ?? 0)")
        key.add("username", credential.username)
        key.add("workflow", context?.workflowID)
        key.add("node", context?.nodeID)
        key.add("from", from)
        key.add("to", list: to?.entries ?? [])
        key.add("cc", list: cc?.entries ?? [])
        key.add("bcc", list: bcc?.entries ?? [])
        key.add("reply_to", replyTo)
        key.add("subject", subject)
        key.add("body_format", bodyFormat?.rawValue)
        key.add("text", text)
        key.add("html", html)
        key.add("priority", priority?.rawValue)
        key.add("headers", list: (headers?.fields ?? []).flatMap { [$0.name, $0.value] })
        for attachment in attachments ?? [] {
            key.add("attachment", list: [
                attachment.filename, attachment.contentType ?? "", attachment.contentID ?? "", attachment.url ?? "",
            ])
            key.add("attachment_bytes", attachment.contentBase64)
        }
        return key.finalize()
    }

    /// The rate-limit account: one per workspace and credential.
    func rateKey(credential: CredentialParams) -> String {
        let identity = credential.id ?? credentialID ?? "\(credential.host.lowercased())/\(credential.username ?? "")"
        return Self.rateKey(workspace: workspaceID, identity: identity)
    }

    /// The rate-limit account of the credential `identity` (its id) in `workspace`.
    static func rateKey(workspace: String, identity: String) -> String {
        "\(workspace)/\(identity)"
    }
}

extension CredentialParams.Limits {
    /// The limits to enforce, or nil when none are set. An unknown preset, or a count below
    /// 1, is refused, as the protocol's schema says: a typo must not leave a credential
    /// silently unlimited.
    func rateLimits(field: String = "params.credential.limits") throws(SidecarError) -> RateLimits? {
        var limits = RateLimits()
        if let preset {
            guard let named = RateLimits.preset(named: preset) else {
                let known = RateLimits.presets.keys.sorted().joined(separator: ", ")
                throw SidecarError(
                    code: .invalidParams, message: "The rate-limit preset \"\(preset.prefix(64))\" is unknown; use one of \(known).",
                    field: "\(field).preset")
            }
            limits = named
        }
        if let perMinute {
            guard perMinute >= 1 else {
                throw SidecarError(code: .invalidParams, message: "per_minute must be at least 1.", field: "\(field).per_minute")
            }
            limits.rate = .perMinute(perMinute)
        }
        if let daily {
            guard daily >= 1 else {
                throw SidecarError(code: .invalidParams, message: "daily must be at least 1.", field: "\(field).daily")
            }
            limits.daily = daily
        }
        return limits.rate == nil && limits.daily == nil ? nil : limits
    }
}
