import SidecarProtocol
import SidecarState

extension StoredCredential {
    /// The stored credential in the request's terms.
    var params: CredentialParams {
        CredentialParams(
            id: metadata.id, host: secret.host, port: secret.port,
            security: secret.security.flatMap(CredentialParams.Security.init(rawValue:)), username: secret.username,
            password: secret.password, accessToken: secret.accessToken,
            auth: secret.auth.flatMap(CredentialParams.AuthMechanism.init(rawValue:)),
            tls: secret.tls.map {
                CredentialParams.TLSOptions(
                    minVersion: $0.minVersion.flatMap(CredentialParams.TLSOptions.MinimumVersion.init(rawValue:)),
                    acceptUnverified: $0.acceptUnverified, caPEM: $0.caPEM, serverName: $0.serverName)
            },
            clientName: secret.clientName, pipelining: secret.pipelining, chunking: secret.chunking,
            maxMessagesPerConnection: secret.maxMessagesPerConnection)
    }
}
