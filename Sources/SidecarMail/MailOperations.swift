import Logging
import SidecarCore
import SidecarMessage
import SidecarProtocol
import SidecarSMTP
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
    /// Sends by outcome, their durations, refusals by the policy, state store failures.
    let metrics: MailMetrics
    /// Keys the OAuth token cache's fingerprints (of client secrets) for this process.
    let fingerprintKey = SecretFingerprint.Key.random()
    /// The last success and failure of each stored credential, for `credential_status`.
    let health: CredentialHealthRecorder

    public init(
        settings: MailSettings, transport: any MailTransport, policy: MailPolicy = MailPolicy(),
        composer: MessageComposer? = nil, metrics: MailMetrics = .none
    ) {
        self.init(settings: settings, transport: transport, policy: policy, composer: composer, metrics: metrics, health: .init())
    }

    init(
        settings: MailSettings, transport: any MailTransport, policy: MailPolicy, composer: MessageComposer?,
        metrics: MailMetrics, health: CredentialHealthRecorder
    ) {
        self.health = health
        self.settings = settings
        self.metrics = metrics
        self.transport = transport
        self.policy = policy
        self.composer = composer ?? MessageComposer(limits: settings.messageLimits)
        self.credentials = CredentialResolver(settings: settings)
    }

    /// The inline credential of a request, or the stored one it names, which must belong to
    /// the request's workspace (with its OAuth settings, if it gets its tokens itself).
    func credential(inline: CredentialParams?, storedID: String?, workspace: String) async throws(SidecarError)
        -> (params: CredentialParams, oauth: OAuthSettings?)
    {
        if let inline {
            guard storedID == nil else {
                throw SidecarError(
                    code: .invalidParams, message: "Give either \"credential\" or \"credential_id\", not both.",
                    field: "params.credential_id")
            }
            return (inline, nil)
        }
        if let storedID {
            guard let store = policy.credentials else {
                throw SidecarError(
                    code: .credentialNotFound,
                    message: "This sidecar has no credential store; send the credential inline.",
                    field: "params.credential_id")
            }
            do {
                return try await store.storedCredential(id: storedID, workspace: workspace)
            } catch let error as CredentialStoreError where error.code == .notFound {
                throw SidecarError(
                    code: .credentialNotFound,
                    message: "No stored credential \"\(storedID.prefix(128))\" in this workspace.",
                    field: "params.credential_id")
            } catch {
                let failure =
                    SidecarError(state: error)
                    ?? SidecarError(code: .internalError, message: "The credential store could not be read.")
                metrics.stateFailed(failure)
                throw failure
            }
        }
        throw SidecarError(
            code: .invalidParams, message: "The request needs a \"credential\" (or a \"credential_id\").",
            field: "params.credential")
    }

    /// The SMTP configuration of `credential` and, for a stored OAuth credential, where its
    /// connections get their tokens.
    func configuration(for credential: (params: CredentialParams, oauth: OAuthSettings?), workspace: String)
        throws(SidecarError) -> (SMTPConfiguration, OAuthTokenSource?)
    {
        guard let oauth = credential.oauth else { return (try credentials.configuration(for: credential.params), nil) }
        guard let broker = policy.oauth else {
            throw SidecarError(
                code: .internalError, message: "This sidecar cannot obtain OAuth tokens for the stored credential.")
        }
        let configuration = try credentials.configuration(for: credential.params, tokensFromEndpoint: true)
        let mechanism: SMTPAuthMechanism? =
            switch credential.params.auth {
            case .xoauth2?: .xoauth2
            case .oauthbearer?: .oauthbearer
            case .auto?, .plain?, .login?, .none?, nil: nil
            }
        let source = OAuthTokenSource(
            key: oauth.cacheKey(
                workspace: workspace, credentialID: credential.params.id ?? "", fingerprintKey: fingerprintKey),
            request: oauth.tokenRequest, username: credential.params.username ?? "", mechanism: mechanism, broker: broker)
        return (configuration, source)
    }
}
