/// `verify` result: the credential works. What the server announced is included so a user
/// can see what it offers.
public struct VerifyResult: Sendable, Equatable, Codable {
    public var ok: Bool
    /// The security mode used: `tls`, `starttls` or `none`.
    public var security: String
    /// The server's name from its EHLO reply.
    public var server: String
    /// SASL mechanisms the server offered (after TLS).
    public var authMechanisms: [String]
    /// EHLO keywords, e.g. `PIPELINING`, `SIZE 10240000`, `SMTPUTF8`.
    public var capabilities: [String]

    public init(security: String, server: String, authMechanisms: [String], capabilities: [String]) {
        self.ok = true
        self.security = security
        self.server = server
        self.authMechanisms = authMechanisms
        self.capabilities = capabilities
    }

    enum CodingKeys: String, CodingKey {
        case ok, security, server, capabilities
        case authMechanisms = "auth_mechanisms"
    }
}
