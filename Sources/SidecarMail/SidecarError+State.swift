import SidecarCore
import SidecarState
import SidecarStatePostgres

extension SidecarError {
    /// A failure of the state database, on the wire: `internal_error`, retryable when the
    /// database was busy (another process held its write lock). SQLite's text names tables
    /// and constraints, never a bound value, so it may be shown.
    public init(_ error: SQLiteError) {
        self.init(
            code: .internalError, message: "The sidecar's state database failed (\(error.description)).",
            retryable: error.isBusy)
    }

    /// A failure of the shared state database: `state_unavailable` (retryable; nothing was
    /// sent) when it cannot be reached or did not answer in time, else `internal_error`.
    public init(_ error: PostgresStateError) {
        switch error.code {
        case .unavailable:
            self.init(
                code: .stateUnavailable,
                message: "The shared state database is unavailable (\(error.detail)); nothing was sent. Retry later.",
                retryable: true)
        case .invalidConfiguration:
            self.init(code: .invalidConfiguration, message: error.description)
        case .failed, .schemaTooNew, .schemaTooOld:
            self.init(code: .internalError, message: "The sidecar's shared state database failed (\(error.description)).")
        }
    }

    /// The credential key's problem, worded for the operator: `invalid_configuration`.
    public init(_ error: CredentialKeyError) {
        let message =
            switch error.code {
            case .wrongLength(let byteCount):
                "The credential key must be 32 bytes (AES-256); got \(byteCount)."
            case .unreadable(let path, let errno?):
                "The credential key file \(path) cannot be read (errno \(errno))."
            case .unreadable(let path, nil):
                "The credential key file \(path) cannot be read."
            case .accessibleToOthers(let path):
                "The credential key file \(path) is accessible to group or others; make it mode 0600 or 0400."
            case .malformed(let source):
                "The credential key in \(source) must be 32 raw bytes or 64 hex digits."
            case .noCredentialsDirectory(let name):
                "CREDENTIALS_DIRECTORY is not set: load the key with LoadCredentialEncrypted=\(name):… "
                    + "in the unit, or give a key file."
            case .notCreated(let path, let errno):
                "The credential key file \(path) cannot be created (errno \(errno)); an existing key is never overwritten."
            case .notWritten(let path):
                "The credential key file \(path) could not be written."
            }
        self.init(code: .invalidConfiguration, message: message)
    }

    /// The credential store's refusal or failure, on the wire. (A request's `credential_id`
    /// that names no credential is worded with its field by ``MailOperations``.)
    public init(_ error: CredentialStoreError) {
        switch error.code {
        case .notFound:
            self.init(code: .credentialNotFound, message: "No stored credential with this id exists in this workspace.")
        case .duplicateID:
            self.init(
                code: .invalidParams, message: "A credential with this id already exists in the workspace.", field: "params.id")
        case .sealFailed:
            self.init(code: .internalError, message: "The credential could not be encrypted.")
        case .sealedUnderAnotherKey(let stored, let current):
            self.init(
                code: .internalError,
                message: "The stored credential was encrypted under another key (key id \(stored), current \(current)).")
        case .openFailed:
            self.init(
                code: .internalError,
                message: "The stored credential could not be decrypted: it was altered or moved from another record.")
        }
    }

    /// A send the rate limiter refused: `rate_limited`, retryable, with `retry_after_ms`.
    init(rateLimitedFor retryAfter: Duration, reason: RateLimitReason) {
        let message =
            switch reason {
            case .rate: "This credential is sending faster than its configured rate; retry shortly."
            case .daily: "This credential has used its daily sending quota; retry when it frees up."
            }
        self.init(code: .rateLimited, message: message, retryable: true, retryAfterMs: retryAfter.wholeMilliseconds)
    }

    /// Any error the state store threw, on the wire, or nil for one that is not the store's
    /// (a `SidecarError` is returned as it is).
    public init?(state error: any Error) {
        switch error {
        case let error as SidecarError: self = error
        case let error as SQLiteError: self.init(error)
        case let error as PostgresStateError: self.init(error)
        case let error as CredentialStoreError: self.init(error)
        case let error as CredentialKeyError: self.init(error)
        default: return nil
        }
    }
}
