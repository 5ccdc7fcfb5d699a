/// `send` parameters: one email, the credential to send it with, and the workflow context.
public struct SendParams: Sendable, Equatable, Codable {
    public enum BodyFormat: String, Sendable, Codable, CaseIterable {
        case text, html
    }

    public enum Priority: String, Sendable, Codable, CaseIterable {
        case low, normal, high
    }

    public enum OnError: String, Sendable, Codable, CaseIterable {
        /// A failed send is an error response (`ok: false`). The default.
        case stop
        /// A failed send is a successful response whose result carries the error.
        case `continue`
    }

    /// Where the send comes from, for duplicate suppression and mail-loop prevention.
    public struct Context: Sendable, Equatable, Codable {
        public var workflowID: String?
        public var executionID: String?
        public var nodeID: String?
        /// The sender of the email that triggered this workflow; never a recipient.
        public var triggerEmail: String?
        /// Overrides the content hash as the duplicate-suppression key.
        public var idempotencyKey: String?

        public init(
            workflowID: String? = nil, executionID: String? = nil, nodeID: String? = nil, triggerEmail: String? = nil,
            idempotencyKey: String? = nil
        ) {
            self.workflowID = workflowID
            self.executionID = executionID
            self.nodeID = nodeID
            self.triggerEmail = triggerEmail
            self.idempotencyKey = idempotencyKey
        }

        enum CodingKeys: String, CodingKey {
            case workflowID = "workflow_id"
            case executionID = "execution_id"
            case nodeID = "node_id"
            case triggerEmail = "trigger_email"
            case idempotencyKey = "idempotency_key"
        }
    }

    /// Delivery status notification request (RFC 3461), when the server offers DSN.
    public struct DSN: Sendable, Equatable, Codable {
        public enum Notify: String, Sendable, Codable, CaseIterable {
            case never, success, failure, delay
        }

        public enum Return: String, Sendable, Codable, CaseIterable {
            case full, headers
        }

        public var notify: [Notify]?
        public var ret: Return?
        public var envelopeID: String?

        public init(notify: [Notify]? = nil, ret: Return? = nil, envelopeID: String? = nil) {
            self.notify = notify
            self.ret = ret
            self.envelopeID = envelopeID
        }

        enum CodingKeys: String, CodingKey {
            case notify, ret
            case envelopeID = "envelope_id"
        }
    }

    /// The workspace the request runs in. Pools and stored credentials are per workspace.
    public var workspaceID: String
    /// An inline credential. Exactly one of `credential` and `credential_id`.
    public var credential: CredentialParams?
    /// A credential stored in the daemon, by id.
    public var credentialID: String?
    public var from: String?
    public var to: AddressList?
    public var cc: AddressList?
    public var bcc: AddressList?
    public var replyTo: String?
    public var subject: String?
    public var bodyFormat: BodyFormat?
    public var text: String?
    public var html: String?
    public var priority: Priority?
    public var headers: HeaderList?
    public var attachments: [AttachmentParams]?
    public var context: Context?
    /// Duplicate-suppression window in seconds (default 3600; 0 turns it off for this send).
    public var dedupWindowSeconds: Int?
    public var dsn: DSN?
    public var onError: OnError?
    /// Overall deadline for the request, in milliseconds.
    public var timeoutMs: Int?

    public init(workspaceID: String, credential: CredentialParams? = nil, credentialID: String? = nil) {
        self.workspaceID = workspaceID
        self.credential = credential
        self.credentialID = credentialID
    }

    enum CodingKeys: String, CodingKey {
        case credential, from, to, cc, bcc, subject, text, html, priority, headers, attachments, context, dsn
        case workspaceID = "workspace_id"
        case credentialID = "credential_id"
        case replyTo = "reply_to"
        case bodyFormat = "body_format"
        case dedupWindowSeconds = "dedup_window_seconds"
        case onError = "on_error"
        case timeoutMs = "timeout_ms"
    }
}
