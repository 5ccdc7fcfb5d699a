// Errors talking to the SMTP server.
extension ErrorCode {
    /// The server rejected the credentials (EAUTH): wrong password, or an App Password is required.
    public static let authFailed = ErrorCode("auth_failed")
    /// The TCP connection could not be made or was lost (ECONNECTION): wrong host or port, firewall.
    public static let connectionFailed = ErrorCode("connection_failed")
    /// The server did not answer in time (ETIMEDOUT).
    public static let timeout = ErrorCode("timeout")
    /// The TLS handshake failed for a reason other than the certificate.
    public static let tlsFailed = ErrorCode("tls_failed")
    /// The server's certificate is self-signed, expired or does not match the host name.
    public static let certificateInvalid = ErrorCode("certificate_invalid")
    /// STARTTLS is required but the server does not offer it, or sent data before TLS began.
    public static let starttlsUnavailable = ErrorCode("starttls_unavailable")
    /// The message needs SMTPUTF8 (non-ASCII addresses) and the server does not offer it.
    public static let smtputf8Unsupported = ErrorCode("smtputf8_unsupported")
    /// The server refused the sender (MAIL FROM).
    public static let senderRejected = ErrorCode("sender_rejected")
    /// The server refused every recipient.
    public static let recipientsRejected = ErrorCode("recipients_rejected")
    /// The server refused the message after DATA.
    public static let messageRejected = ErrorCode("message_rejected")
    /// The message was transmitted but the server's final reply never came (the connection
    /// dropped or timed out after the end of data): it may have been delivered. Not
    /// retryable: resending blindly may deliver it twice.
    public static let outcomeUnknown = ErrorCode("outcome_unknown")
    /// The server replied in a way the protocol does not allow.
    public static let protocolViolation = ErrorCode("smtp_protocol_error")
    /// A stored OAuth credential's refresh token was refused by its token endpoint
    /// (`invalid_grant`: revoked, expired, password changed): the user must consent again.
    /// Not retryable.
    public static let oauthReauthorizationRequired = ErrorCode("oauth_reauthorization_required")
    /// No access token could be obtained for a stored OAuth credential: the token endpoint
    /// was unreachable, slow, answered 5xx or nonsense (retryable), or refused the client
    /// id or secret (not retryable). Nothing was sent.
    public static let oauthTokenFailed = ErrorCode("oauth_token_failed")
    /// The provider said it is throttling this account or connection (SES's maximum
    /// sending rate, Gmail's "try again later", Microsoft 365's concurrent connections):
    /// retryable after `retry_after_ms`.
    public static let throttled = ErrorCode("throttled")
    /// The provider said the account's daily sending quota is spent (SES, Gmail): retryable,
    /// but not before the provider's rolling window frees some.
    public static let quotaExceeded = ErrorCode("quota_exceeded")
    /// The provider refused the From: this login may not send as that address (Microsoft
    /// 365's SendAsDenied).
    public static let senderNotAllowed = ErrorCode("sender_not_allowed")
    /// The provider does not accept SMTP AUTH for this login as configured (Microsoft 365:
    /// SMTP AUTH disabled for the mailbox or tenant, or Basic authentication retired).
    public static let smtpAuthDisabled = ErrorCode("smtp_auth_disabled")

    public static let transportCodes: [ErrorCode] = [
        .authFailed, .connectionFailed, .timeout, .tlsFailed, .certificateInvalid, .starttlsUnavailable,
        .smtputf8Unsupported, .senderRejected, .recipientsRejected, .messageRejected, .outcomeUnknown, .protocolViolation,
        .oauthReauthorizationRequired, .oauthTokenFailed, .throttled, .quotaExceeded, .senderNotAllowed, .smtpAuthDisabled,
    ]
}
