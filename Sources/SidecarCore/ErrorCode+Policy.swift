// Refusals by the sidecar's own send policy.
extension ErrorCode {
    /// The credential uses port 25, which is banned for authenticated submission.
    public static let port25Blocked = ErrorCode("port_25_blocked")
    /// A recipient is the address whose email triggered this workflow (mail loop).
    public static let mailLoop = ErrorCode("mail_loop")
    /// The SMTP host or attachment URL resolves to a private, loopback or metadata address.
    public static let destinationForbidden = ErrorCode("destination_forbidden")
    /// A URL attachment could not be fetched (non-2xx, redirect, too large, too slow).
    public static let attachmentFetchFailed = ErrorCode("attachment_fetch_failed")
    /// The credential's sending rate or daily quota is exhausted; see `retry_after_ms`.
    public static let rateLimited = ErrorCode("rate_limited")
    /// The named stored credential does not exist, or belongs to another workspace.
    public static let credentialNotFound = ErrorCode("credential_not_found")
    /// The pool for this credential had no free connection within the wait limit.
    public static let poolBusy = ErrorCode("pool_busy")

    public static let policyCodes: [ErrorCode] = [
        .port25Blocked, .mailLoop, .destinationForbidden, .attachmentFetchFailed, .rateLimited,
        .credentialNotFound, .poolBusy,
    ]
}
