import Logging
import SidecarCore
import SidecarMessage
import SidecarProtocol
import SidecarServer

/// The `send` and `verify` operations: request → credential and draft → composed message
/// → SMTP → result, with one structured log entry per send.
public struct MailOperations: RequestHandler {
    let settings: MailSettings
    let transport: any MailTransport
    let composer: MessageComposer
    let credentials: CredentialResolver

    public init(settings: MailSettings, transport: any MailTransport, composer: MessageComposer? = nil) {
        self.settings = settings
        self.transport = transport
        self.composer = composer ?? MessageComposer(limits: settings.messageLimits)
        self.credentials = CredentialResolver(settings: settings)
    }

    public func handle(_ request: Request, context: RequestContext) async -> Response.Outcome {
        switch request.operation {
        case .send(let params):
            return await send(params, logger: context.logger)
        case .verify(let params):
            return await verify(params, logger: context.logger)
        case .hello, .ping, .stats:
            return .failure(SidecarError(
                code: .internalError, message: "This operation is not handled by the mail operations."))
        }
    }

    /// The inline credential of a request, or the refusal of a stored one (no credential
    /// store in this build).
    func credential(inline: CredentialParams?, storedID: String?) throws(SidecarError) -> CredentialParams {
        if let inline {
            guard storedID == nil else {
                throw SidecarError(
                    code: .invalidParams, message: "Give either \"credential\" or \"credential_id\", not both.",
                    field: "params.credential_id")
            }
            return inline
        }
        if let storedID {
            throw SidecarError(
                code: .credentialNotFound,
                message: "No stored credential \"\(storedID.prefix(128))\" in this workspace; send the credential inline.",
                field: "params.credential_id")
        }
        throw SidecarError(
            code: .invalidParams, message: "The request needs a \"credential\" (or a \"credential_id\").",
            field: "params.credential")
    }
}
