import SidecarCore

/// The errors of the SMTP client, worded for the person who built the workflow. None of
/// them contains a password, a token or an AUTH payload; server replies are quoted.
extension SidecarError {
    /// 421 at any phase: the server is shutting the connection down. Retryable.
    static func smtpServiceClosing(_ reply: SMTPResponse, phase: SMTPPhase) -> SidecarError {
        SidecarError(
            code: .connectionFailed,
            message: "The server closed the connection during \(phase.activity) (\(reply.reply)). It is usually busy or limiting connections; try again later.",
            retryable: true,
            smtp: reply.reply
        )
    }

    static func smtpGreetingRefused(_ reply: SMTPResponse) -> SidecarError {
        SidecarError(
            code: .connectionFailed,
            message: "The server refused the connection (\(reply.reply)).",
            retryable: reply.isTransientFailure,
            smtp: reply.reply
        )
    }

    static func smtpHelloRefused(_ reply: SMTPResponse) -> SidecarError {
        SidecarError(
            code: .connectionFailed,
            message: "The server refused the client's greeting (EHLO/HELO) (\(reply.reply)). Check the client identifier setting.",
            retryable: reply.isTransientFailure,
            smtp: reply.reply
        )
    }

    static func smtpSTARTTLSNotOffered() -> SidecarError {
        SidecarError(
            code: .starttlsUnavailable,
            message: "The server does not offer STARTTLS, so the connection cannot be encrypted. Nothing was sent. "
                + "Check the port and security setting: 587 uses STARTTLS, 465 uses TLS from the start.",
            retryable: false
        )
    }

    static func smtpSTARTTLSRefused(_ reply: SMTPResponse) -> SidecarError {
        SidecarError(
            code: .starttlsUnavailable,
            message: "The server refused to start TLS (\(reply.reply)). Nothing was sent unencrypted.",
            retryable: false,
            smtp: reply.reply
        )
    }

    /// RFC 3207 §6: bytes arrived after the 220 to STARTTLS and before the handshake.
    static func smtpPlaintextInjection() -> SidecarError {
        SidecarError(
            code: .starttlsUnavailable,
            message: "The server sent unexpected unencrypted data right after agreeing to STARTTLS (a possible "
                + "man-in-the-middle). The connection was closed; nothing was sent.",
            retryable: false
        )
    }

    static func smtpPlaintextAuthenticationRefused() -> SidecarError {
        SidecarError(
            code: .authFailed,
            message: "The connection is set to send without encryption, so the password was not sent. "
                + "Use port 587 with STARTTLS or 465 with TLS.",
            retryable: false
        )
    }

    static func smtpAuthenticationUnavailable(offered: [String], wanted: SMTPCredentials) -> SidecarError {
        let what: String
        switch wanted.authenticator {
        case .password: what = "password login (AUTH PLAIN or LOGIN)"
        case .oauth2Token: what = "OAuth login (AUTH OAUTHBEARER or XOAUTH2)"
        }
        let offeredText = offered.isEmpty ? "no login at all" : "only " + offered.joined(separator: ", ")
        return SidecarError(
            code: .authFailed,
            message: "The server does not offer \(what) on this connection; it offers \(offeredText). "
                + "Check the port and security setting.",
            retryable: false
        )
    }

    /// `oauthStatus`: the `status` of an OAuth mechanism's error challenge, when there was one.
    static func smtpAuthenticationFailed(
        _ reply: SMTPResponse, mechanism: SMTPAuthMechanism, oauthStatus: String? = nil
    ) -> SidecarError {
        let advice: String
        switch mechanism {
        case .xoauth2, .oauthbearer:
            let said = oauthStatus.map { " The server said the token's status is \"\($0)\"." } ?? ""
            advice = "Check that the access token is valid, not expired, and has the mail-sending scope.\(said)"
        case .plain, .login:
            advice = "For Gmail or Microsoft 365, use an App Password; for SendGrid the username is apikey."
        }
        let prefix = reply.isTransientFailure
            ? "The server could not check the username or password right now"
            : "The server refused the username or password"
        return SidecarError(
            code: .authFailed,
            message: "\(prefix) (\(reply.reply)). \(advice)",
            retryable: reply.isTransientFailure,
            smtp: reply.reply
        )
    }

    static func smtpSenderRejected(_ reply: SMTPResponse, sender: String) -> SidecarError {
        SidecarError(
            code: .senderRejected,
            message: "The server refused the sender <\(sender)> (\(reply.reply)). Use a From address this account may send as.",
            retryable: reply.isTransientFailure,
            smtp: reply.reply
        )
    }

    static func smtpRecipientsRejected(_ recipients: [SMTPRecipientResult]) -> SidecarError {
        let first = recipients.first?.reply
        let allTransient = !recipients.isEmpty && recipients.allSatisfy(\.reply.isTransientFailure)
        let list = recipients.prefix(5).map { "<\($0.address)>: \($0.reply)" }.joined(separator: "; ")
        return SidecarError(
            code: .recipientsRejected,
            message: "The server refused every recipient (\(list)\(recipients.count > 5 ? "; …" : "")). Check the addresses.",
            retryable: allTransient,
            smtp: first
        )
    }

    static func smtpDataRefused(_ reply: SMTPResponse) -> SidecarError {
        SidecarError(
            code: .messageRejected,
            message: "The server refused to take the message (\(reply.reply)).",
            retryable: reply.isTransientFailure,
            smtp: reply.reply
        )
    }

    static func smtpMessageRejected(_ reply: SMTPResponse) -> SidecarError {
        SidecarError(
            code: .messageRejected,
            message: "The server refused the message after receiving it (\(reply.reply)).",
            retryable: reply.isTransientFailure,
            smtp: reply.reply
        )
    }

    static func smtpMessageTooLarge(size: Int, limit: Int) -> SidecarError {
        SidecarError(
            code: .messageTooLarge,
            message: "The message is \(size) bytes but the server accepts at most \(limit) bytes. Nothing was sent. "
                + "Make the attachments smaller or send a link instead.",
            retryable: false
        )
    }

    static func smtpUTF8Unsupported() -> SidecarError {
        SidecarError(
            code: .smtputf8Unsupported,
            message: "An address has non-ASCII characters before the @, and this server does not support that (SMTPUTF8). "
                + "Nothing was sent. Use an ASCII address.",
            retryable: false
        )
    }

    static func smtpInvalidEnvelopeAddress() -> SidecarError {
        SidecarError(
            code: .invalidAddress,
            message: "An envelope address contains characters that cannot be sent in an SMTP command.",
            retryable: false
        )
    }

    static func smtpNoRecipients() -> SidecarError {
        SidecarError(code: .noRecipients, message: "The message has no recipients.", retryable: false)
    }

    static func smtpTimeout(_ timer: SMTPTimer) -> SidecarError {
        SidecarError(
            code: .timeout,
            message: "The server did not answer in time: no \(timer.awaiting) within \(timer.duration.humanReadable). "
                + "Nothing was sent; try again later.",
            retryable: true
        )
    }

    /// The request's own deadline (`timeout_ms`) passed: `request_timeout`, not the
    /// server's `timeout`. After the message's last byte went out the state machine
    /// reports `outcome_unknown` instead.
    static func smtpDeadlineExceeded(phase: SMTPPhase) -> SidecarError {
        SidecarError(
            code: .requestTimeout,
            message: "The time allowed for this request (timeout_ms) ran out during \(phase.activity). Nothing was sent; "
                + "try again later or allow more time.",
            retryable: true
        )
    }

    /// The task was cancelled (the daemon is stopping): the connection was closed.
    static func smtpCancelled(phase: SMTPPhase) -> SidecarError {
        SidecarError(
            code: .shuttingDown,
            message: "The sidecar stopped this request during \(phase.activity) because it is shutting down. "
                + "Nothing was sent; send it again once the sidecar is back.",
            retryable: true
        )
    }

    static func smtpConnectionLost(phase: SMTPPhase) -> SidecarError {
        SidecarError(
            code: .connectionFailed,
            message: "The server closed the connection during \(phase.activity). Nothing was sent; try again later.",
            retryable: true
        )
    }

    static func smtpConnectionUnusable() -> SidecarError {
        SidecarError(
            code: .connectionFailed,
            message: "The connection to the SMTP server is already closed. Nothing was sent.",
            retryable: true
        )
    }

    static func smtpConnectionBusy() -> SidecarError {
        SidecarError(
            code: .internalError,
            message: "The SMTP connection is busy with another operation.",
            retryable: true
        )
    }

    /// The final dot went out but the final reply did not come. `cause` says why.
    static func smtpOutcomeUnknown(cause: SidecarError) -> SidecarError {
        SidecarError(
            code: .outcomeUnknown,
            message: "The message was transmitted but the server's final reply never came (\(cause.message.droppingNothingWasSent)). "
                + "It may have been delivered: do not resend blindly; check the recipient's mailbox or the server's logs.",
            retryable: false
        )
    }

    /// BDAT announced `declared` bytes but the message produced `actual`: the connection
    /// is closed before the server could take anything else for message data.
    static func smtpMessageSizeMismatch(declared: Int, actual: Int) -> SidecarError {
        SidecarError(
            code: .internalError,
            message: "The message came out at \(actual) bytes although \(declared) were announced; it was abandoned. Nothing was sent.",
            retryable: true
        )
    }

    static func smtpProtocolError(_ detail: String, reply: SMTPResponse? = nil) -> SidecarError {
        SidecarError(
            code: .protocolViolation,
            message: "The SMTP server answered in a way the protocol does not allow (\(detail)). Report it to the mail server's operator.",
            retryable: false,
            smtp: reply?.reply
        )
    }

    static func smtpUnexpectedReply(_ reply: SMTPResponse, awaiting: String) -> SidecarError {
        smtpProtocolError("unexpected reply \(reply.reply) to \(awaiting)", reply: reply)
    }
}

extension SMTPPhase {
    /// "the TLS handshake", for messages.
    var activity: String {
        switch self {
        case .connect: "connecting"
        case .greeting: "the server greeting"
        case .tls: "the TLS handshake"
        case .ehlo: "EHLO"
        case .auth: "login (AUTH)"
        case .mail: "MAIL FROM"
        case .rcpt: "RCPT TO"
        case .data: "the message transfer (DATA)"
        case .reset: "RSET"
        case .quit: "QUIT"
        }
    }
}

extension Duration {
    /// "5 minutes", "30 seconds", "250 ms".
    var humanReadable: String {
        let (seconds, attoseconds) = components
        if seconds == 0 { return "\(attoseconds / 1_000_000_000_000_000) ms" }
        if seconds % 60 == 0 && seconds >= 60 { return seconds == 60 ? "1 minute" : "\(seconds / 60) minutes" }
        return seconds == 1 ? "1 second" : "\(seconds) seconds"
    }
}

extension String {
    fileprivate var droppingNothingWasSent: String {
        var text = self
        for suffix in [" Nothing was sent; try again later.", " Nothing was sent."] where text.hasSuffix(suffix) {
            text.removeLast(suffix.count)
        }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
