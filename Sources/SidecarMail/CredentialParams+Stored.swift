import FoundationEssentials
import SidecarCore
import SidecarProtocol
import SidecarState

extension CredentialParams {
    /// The credential as a stored record seals it: a JSON object with the wire's field
    /// names, the password and token in the clear (the sealed record is their rightful
    /// recipient). `id` is not stored: a record has its own id. `limits` is: a send by
    /// `credential_id` has nowhere else to carry them, and they are enforced as an inline
    /// credential's are.
    ///
    /// This is the form earlier builds stored (their `CredentialSecret`, written with
    /// `JSONEncoder`): records they stored open here, and records stored here open there.
    ///
    /// A credential that gets its tokens itself keeps its ``OAuthSettings`` under `oauth`
    /// (builds before OAuth ignore the member, and cannot use such a record). Builds before
    /// stored limits ignore `limits` too (the decoder reads only the members it names), and
    /// a record without it reads as a credential without limits.
    func storedPayload(oauth: OAuthSettings? = nil) throws(CredentialStoreError) -> CredentialPayload {
        do {
            var json = try JSONEncoder().encode(StoredCredentialFields(self, oauth: oauth))
            defer { json.resetBytes(in: 0..<json.count) }
            return CredentialPayload(Array(json))
        } catch {
            throw CredentialStoreError(.sealFailed, underlying: error)
        }
    }

    /// The credential a stored record sealed, with the record's `id` and its OAuth settings
    /// if it has them. A `security`, `auth` or `min_version` this build does not know reads
    /// as absent, as it always has (older `credentials` commands stored whatever string they
    /// were given).
    static func stored(_ payload: CredentialPayload, id: String) throws(CredentialStoreError)
        -> (params: CredentialParams, oauth: OAuthSettings?)
    {
        do {
            let fields = try JSONDecoder().decode(StoredCredentialFields.self, from: Data(payload.bytes))
            var params = fields.params
            params.id = id
            return (params, fields.oauth)
        } catch {
            // Not the decoder's error: its text may quote the plaintext.
            throw CredentialStoreError(.openFailed)
        }
    }
}

/// The coding of ``CredentialParams/storedPayload()``: the stored form's keys, written and
/// read member by member so that the form does not follow the protocol's `Codable`.
private struct StoredCredentialFields: Codable {
    var params: CredentialParams
    var oauth: OAuthSettings?

    init(_ params: CredentialParams, oauth: OAuthSettings?) {
        self.params = params
        self.oauth = oauth
    }

    enum Key: String, CodingKey {
        case host, port, security, username, password, auth, tls, pipelining, chunking, oauth, limits
        case accessToken = "access_token"
        case clientName = "client_name"
        case maxMessagesPerConnection = "max_messages_per_connection"
    }

    enum TLSKey: String, CodingKey {
        case minVersion = "min_version"
        case acceptUnverified = "accept_unverified"
        case caPEM = "ca_pem"
        case serverName = "server_name"
    }

    enum LimitsKey: String, CodingKey {
        case preset, daily
        case perMinute = "per_minute"
    }

    enum OAuthKey: String, CodingKey {
        case provider, flow, scope, tenant
        case tokenURL = "token_url"
        case clientID = "client_id"
        case clientSecret = "client_secret"
        case refreshToken = "refresh_token"
    }

    init(from decoder: any Decoder) throws {
        let fields = try decoder.container(keyedBy: Key.self)
        if fields.contains(.oauth), try !fields.decodeNil(forKey: .oauth) {
            let settings = try fields.nestedContainer(keyedBy: OAuthKey.self, forKey: .oauth)
            guard let provider = OAuthSettings.Provider(rawValue: try settings.decode(String.self, forKey: .provider)),
                let flow = OAuthSettings.Flow(rawValue: try settings.decode(String.self, forKey: .flow))
            else {
                throw DecodingError.dataCorruptedError(forKey: .oauth, in: fields, debugDescription: "unknown provider or flow")
            }
            oauth = OAuthSettings(
                provider: provider, flow: flow, tokenURL: try settings.decode(String.self, forKey: .tokenURL),
                clientID: try settings.decode(String.self, forKey: .clientID),
                clientSecret: try settings.decodeIfPresent(String.self, forKey: .clientSecret).map(Secret.init),
                refreshToken: try settings.decodeIfPresent(String.self, forKey: .refreshToken).map(Secret.init),
                scope: try settings.decode(String.self, forKey: .scope),
                tenant: try settings.decodeIfPresent(String.self, forKey: .tenant))
        }
        var tls: CredentialParams.TLSOptions?
        if fields.contains(.tls), try !fields.decodeNil(forKey: .tls) {
            let options = try fields.nestedContainer(keyedBy: TLSKey.self, forKey: .tls)
            tls = CredentialParams.TLSOptions(
                minVersion: try options.decodeIfPresent(String.self, forKey: .minVersion)
                    .flatMap(CredentialParams.TLSOptions.MinimumVersion.init(rawValue:)),
                acceptUnverified: try options.decodeIfPresent(Bool.self, forKey: .acceptUnverified),
                caPEM: try options.decodeIfPresent(String.self, forKey: .caPEM),
                serverName: try options.decodeIfPresent(String.self, forKey: .serverName))
        }
        var limits: CredentialParams.Limits?
        if fields.contains(.limits), try !fields.decodeNil(forKey: .limits) {
            let members = try fields.nestedContainer(keyedBy: LimitsKey.self, forKey: .limits)
            // Read as stored, checked where they are used: a preset this build does not know
            // refuses the send rather than leaving the credential unlimited.
            limits = CredentialParams.Limits(
                preset: try members.decodeIfPresent(String.self, forKey: .preset),
                perMinute: try members.decodeIfPresent(Int.self, forKey: .perMinute),
                daily: try members.decodeIfPresent(Int.self, forKey: .daily))
        }
        params = CredentialParams(
            host: try fields.decode(String.self, forKey: .host),
            port: try fields.decodeIfPresent(Int.self, forKey: .port),
            security: try fields.decodeIfPresent(String.self, forKey: .security).flatMap(CredentialParams.Security.init(rawValue:)),
            username: try fields.decodeIfPresent(String.self, forKey: .username),
            password: try fields.decodeIfPresent(String.self, forKey: .password).map(Secret.init),
            accessToken: try fields.decodeIfPresent(String.self, forKey: .accessToken).map(Secret.init),
            auth: try fields.decodeIfPresent(String.self, forKey: .auth).flatMap(CredentialParams.AuthMechanism.init(rawValue:)),
            tls: tls,
            clientName: try fields.decodeIfPresent(String.self, forKey: .clientName), limits: limits,
            pipelining: try fields.decodeIfPresent(Bool.self, forKey: .pipelining),
            chunking: try fields.decodeIfPresent(Bool.self, forKey: .chunking),
            maxMessagesPerConnection: try fields.decodeIfPresent(Int.self, forKey: .maxMessagesPerConnection))
    }

    func encode(to encoder: any Encoder) throws {
        var fields = encoder.container(keyedBy: Key.self)
        try fields.encode(params.host, forKey: .host)
        try fields.encodeIfPresent(params.port, forKey: .port)
        try fields.encodeIfPresent(params.security?.rawValue, forKey: .security)
        try fields.encodeIfPresent(params.username, forKey: .username)
        try fields.encodeIfPresent(params.password?.revealedValue, forKey: .password)
        try fields.encodeIfPresent(params.accessToken?.revealedValue, forKey: .accessToken)
        try fields.encodeIfPresent(params.auth?.rawValue, forKey: .auth)
        if let tls = params.tls {
            var options = fields.nestedContainer(keyedBy: TLSKey.self, forKey: .tls)
            try options.encodeIfPresent(tls.minVersion?.rawValue, forKey: .minVersion)
            try options.encodeIfPresent(tls.acceptUnverified, forKey: .acceptUnverified)
            try options.encodeIfPresent(tls.caPEM, forKey: .caPEM)
            try options.encodeIfPresent(tls.serverName, forKey: .serverName)
        }
        try fields.encodeIfPresent(params.clientName, forKey: .clientName)
        try fields.encodeIfPresent(params.pipelining, forKey: .pipelining)
        try fields.encodeIfPresent(params.chunking, forKey: .chunking)
        try fields.encodeIfPresent(params.maxMessagesPerConnection, forKey: .maxMessagesPerConnection)
        if let limits = params.limits {
            var members = fields.nestedContainer(keyedBy: LimitsKey.self, forKey: .limits)
            try members.encodeIfPresent(limits.preset, forKey: .preset)
            try members.encodeIfPresent(limits.perMinute, forKey: .perMinute)
            try members.encodeIfPresent(limits.daily, forKey: .daily)
        }
        if let oauth {
            var settings = fields.nestedContainer(keyedBy: OAuthKey.self, forKey: .oauth)
            try settings.encode(oauth.provider.rawValue, forKey: .provider)
            try settings.encode(oauth.flow.rawValue, forKey: .flow)
            try settings.encode(oauth.tokenURL, forKey: .tokenURL)
            try settings.encode(oauth.clientID, forKey: .clientID)
            try settings.encodeIfPresent(oauth.clientSecret?.revealedValue, forKey: .clientSecret)
            try settings.encodeIfPresent(oauth.refreshToken?.revealedValue, forKey: .refreshToken)
            try settings.encode(oauth.scope, forKey: .scope)
            try settings.encodeIfPresent(oauth.tenant, forKey: .tenant)
        }
    }
}
