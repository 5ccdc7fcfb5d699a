import FoundationEssentials
import SidecarCore
import SidecarProtocol
import SidecarState

extension CredentialParams {
    /// The credential as a stored record seals it: a JSON object with the wire's field
    /// names, the password and token in the clear (the sealed record is their rightful
    /// recipient). `id` and `limits` are not stored: a record has its own id, and limits
    /// come with each request.
    ///
    /// This is the form earlier builds stored (their `CredentialSecret`, written with
    /// `JSONEncoder`): records they stored open here, and records stored here open there.
    func storedPayload() throws(CredentialStoreError) -> CredentialPayload {
        do {
            var json = try JSONEncoder().encode(StoredCredentialFields(self))
            defer { json.resetBytes(in: 0..<json.count) }
            return CredentialPayload(Array(json))
        } catch {
            throw CredentialStoreError(.sealFailed, underlying: error)
        }
    }

    /// The credential a stored record sealed, with the record's `id`. A `security`, `auth`
    /// or `min_version` this build does not know reads as absent, as it always has (the
    /// `credentials` command stored whatever string it was given).
    init(storedPayload payload: CredentialPayload, id: String) throws(CredentialStoreError) {
        do {
            self = try JSONDecoder().decode(StoredCredentialFields.self, from: Data(payload.bytes)).params
        } catch {
            // Not the decoder's error: its text may quote the plaintext.
            throw CredentialStoreError(.openFailed)
        }
        self.id = id
    }
}

/// The coding of ``CredentialParams/storedPayload()``: the stored form's keys, written and
/// read member by member so that the form does not follow the protocol's `Codable`.
private struct StoredCredentialFields: Codable {
    var params: CredentialParams

    init(_ params: CredentialParams) {
        self.params = params
    }

    enum Key: String, CodingKey {
        case host, port, security, username, password, auth, tls, pipelining, chunking
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

    init(from decoder: any Decoder) throws {
        let fields = try decoder.container(keyedBy: Key.self)
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
        params = CredentialParams(
            host: try fields.decode(String.self, forKey: .host),
            port: try fields.decodeIfPresent(Int.self, forKey: .port),
            security: try fields.decodeIfPresent(String.self, forKey: .security).flatMap(CredentialParams.Security.init(rawValue:)),
            username: try fields.decodeIfPresent(String.self, forKey: .username),
            password: try fields.decodeIfPresent(String.self, forKey: .password).map(Secret.init),
            accessToken: try fields.decodeIfPresent(String.self, forKey: .accessToken).map(Secret.init),
            auth: try fields.decodeIfPresent(String.self, forKey: .auth).flatMap(CredentialParams.AuthMechanism.init(rawValue:)),
            tls: tls,
            clientName: try fields.decodeIfPresent(String.self, forKey: .clientName),
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
    }
}
