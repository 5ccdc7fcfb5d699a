import SidecarProtocol

/// Where the server routes the operations it does not implement itself: `send`, `verify`
/// and `credential_status`, on their decoded, typed parameters. The executable wires them to the mail
/// engine; the server knows nothing of SMTP.
public struct MailRoutes: Sendable {
    public var send: @Sendable (SendParams, RequestContext) async -> Response.Outcome
    public var verify: @Sendable (VerifyParams, RequestContext) async -> Response.Outcome
    /// The stored credentials' health; nil when the engine has no credential store to report on.
    public var credentialStatus: (@Sendable (CredentialStatusParams, RequestContext) async -> Response.Outcome)?

    public init(
        send: @escaping @Sendable (SendParams, RequestContext) async -> Response.Outcome,
        verify: @escaping @Sendable (VerifyParams, RequestContext) async -> Response.Outcome,
        credentialStatus: (@Sendable (CredentialStatusParams, RequestContext) async -> Response.Outcome)? = nil
    ) {
        self.send = send
        self.verify = verify
        self.credentialStatus = credentialStatus
    }
}
