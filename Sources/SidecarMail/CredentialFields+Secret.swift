import SidecarState

extension CredentialFields {
    /// The fields as the credential store seals them. TLS options are stored only when
    /// one is given.
    var secret: CredentialSecret {
        var tls: CredentialSecret.TLSOptions?
        if caPEM != nil || acceptUnverified {
            tls = CredentialSecret.TLSOptions(acceptUnverified: acceptUnverified ? true : nil, caPEM: caPEM)
        }
        return CredentialSecret(
            host: host, port: port, security: security, username: username, password: password,
            accessToken: accessToken, auth: auth, tls: tls, clientName: clientName, pipelining: pipelining,
            chunking: chunking, maxMessagesPerConnection: maxMessagesPerConnection)
    }
}
