import Logging
import SidecarCore
import SidecarMessage
import SidecarProtocol
import SidecarState

/// The `send` and `verify` operations: request → credential and draft → composed message
/// → SMTP → result, with one structured log entry per send. The server reaches them
/// through the routes the executable wires (``send(_:logger:)``, ``verify(_:logger:)``).
public struct MailOperations: Sendable {
    let settings: MailSettings
    let transport: any MailTransport
    let composer: MessageComposer
    let credentials: CredentialResolver
    let policy: MailPolicy

    public init(
        settings: MailSettings, transport: any MailTransport, policy: MailPolicy = MailPolicy(),
        composer: MessageComposer? = nil
    ) {
        self.settings = settings
        self.transport = transport
        self.policy = policy
        self.composer = composer ?? MessageComposer(limits: settings.messageLimits)
        self.credentials = CredentialResolver(settings: settings)
    }

    /// The inline credential of a request, or the stored one it names, which must belong to
    /// the request's workspace.
    func credential(inline: CredentialParams?, storedID: String?, workspace: String) throws(SidecarError)
        -> CredentialParams
    {
        if let inline {
            guard storedID == nil else {
                throw SidecarError(
                    code: .invalidParams, message: "Give either \"credential\" or \"credential_id\", not both.",
                    field: "params.credential_id")
            }
            return inline
        }
        if let storedID {
            guard let store = policy.credentials else {
                throw SidecarError(
                    code: .credentialNotFound,
                    message: "This sidecar has no credential store; send the credential inline.",
                    field: "params.credential_id")
            }
            do {
                return try store.credential(id: storedID, workspace: workspace)
            } catch let error as CredentialStoreError where error.code == .notFound {
                throw SidecarError(
                    code: .credentialNotFound,
                    message: "No stored credential \"\(storedID.prefix(128))\" in this workspace.",
                    field: "params.credential_id")
            } catch {
                throw SidecarError(state: error)
                    ?? SidecarError(code: .internalError, message: "The credential store could not be read.")
            }
        }
        throw SidecarError(
            code: .invalidParams, message: "The request needs a \"credential\" (or a \"credential_id\").",
            field: "params.credential")
    }
}
