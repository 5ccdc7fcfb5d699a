import SidecarProtocol

/// Where the server routes the operations it does not implement itself: `send` and
/// `verify`, on their decoded, typed parameters. The executable wires them to the mail
/// engine; the server knows nothing of SMTP.
package struct MailRoutes: Sendable {
    package var send: @Sendable (SendParams, RequestContext) async -> Response.Outcome
    package var verify: @Sendable (VerifyParams, RequestContext) async -> Response.Outcome

    package init(
        send: @escaping @Sendable (SendParams, RequestContext) async -> Response.Outcome,
        verify: @escaping @Sendable (VerifyParams, RequestContext) async -> Response.Outcome
    ) {
        self.send = send
        self.verify = verify
    }
}
