import Logging
import NIOCore
import SidecarCore
import SidecarMessage
import SidecarProtocol
import SidecarSMTP

extension MailOperations {
    func send(_ params: SendParams, logger: Logger) async -> Response.Outcome {
        let clock = ContinuousClock()
        let started = clock.now
        var logger = logger
        logger[metadataKey: "workspace_id"] = "\(params.workspaceID)"
        if let id = params.credential?.id ?? params.credentialID {
            logger[metadataKey: "credential_id"] = "\(id)"
        }

        let configuration: SMTPConfiguration
        let message: ComposedMessage
        do {
            let credential = try credential(inline: params.credential, storedID: params.credentialID)
            configuration = try credentials.configuration(for: credential)
            logger[metadataKey: "smtp_host"] = "\(configuration.host)"
            logger[metadataKey: "smtp_port"] = "\(configuration.port)"
            logger[metadataKey: "smtp_security"] = "\(configuration.resolvedSecurity.rawValue)"
            message = try composer.compose(params.draft)
            try MailLoopGuard.check(params)
        } catch {
            logger.warning("Send refused", metadata: [
                "outcome": "not_sent", "error_code": "\(error.code)", "error_field": "\(error.field ?? "")",
            ])
            return finish(SendResult(outcome: .notSent, messageID: nil), error: error, params: params)
        }
        let composed = clock.now
        // Not `message_id`: journald reserves MESSAGE_ID for its message catalog.
        logger[metadataKey: "email_message_id"] = "\(message.messageID)"

        let deadline = params.timeoutMs.map { NIODeadline.now() + .milliseconds(Int64($0)) }
        let route = TransportRoute(
            workspaceID: params.workspaceID, credentialID: params.credential?.id ?? params.credentialID ?? "")
        let outcome = await transport.send(
            message, options: params.smtpOptions, configuration: configuration, route: route, deadline: deadline,
            logger: logger)
        let result = Self.result(outcome.result, messageID: message.messageID)

        var entry: Logger.Metadata = [
            "outcome": "\(result.outcome.rawValue)",
            "recipients_total": "\(message.envelope.recipients.count)",
            "recipients_accepted": "\(result.recipients.filter(\.accepted).count)",
            "recipients_rejected": "\(result.recipients.filter { !$0.accepted }.count)",
            "message_bytes": "\(message.byteCount.map(String.init) ?? "")",
            "duration_compose_ms": "\((composed - started).wholeMilliseconds)",
            "duration_connect_ms": "\(outcome.connect.wholeMilliseconds)",
            "duration_transaction_ms": "\(outcome.transaction.wholeMilliseconds)",
            "duration_total_ms": "\((clock.now - started).wholeMilliseconds)",
            "smtp_connection_reused": "\(outcome.reusedConnection)",
        ]
        if outcome.retried { entry["smtp_retried_on_fresh_connection"] = "true" }
        if let reply = result.smtp {
            entry["smtp_reply_code"] = "\(reply.code)"
            entry["smtp_enhanced_code"] = "\(reply.enhancedCode ?? "")"
            entry["smtp_reply"] = "\(reply.text.prefix(512))"
        }
        if let phase = result.phase { entry["smtp_phase"] = "\(phase)" }
        switch outcome.result {
        case .sent:
            logger.info("Sent", metadata: entry)
            return .success(result)
        case .notSent(let failure), .mayHaveBeenSent(let failure):
            entry["error_code"] = "\(failure.error.code)"
            logger.warning(result.outcome == .outcomeUnknown ? "Send outcome unknown" : "Send failed", metadata: entry)
            return finish(result, error: failure.error, params: params)
        }
    }

    /// An error response, or with `on_error: continue` a success carrying the error.
    func finish(_ result: SendResult, error: SidecarError, params: SendParams) -> Response.Outcome {
        switch params.onError ?? .stop {
        case .stop:
            return .failure(error, partialResult: result)
        case .continue:
            var result = result
            result.error = error
            return .success(result)
        }
    }

    static func result(_ smtp: SMTPSendResult, messageID: String) -> SendResult {
        let recipients = smtp.recipients.map {
            SendResult.Recipient(address: $0.address, accepted: $0.accepted, smtp: $0.reply)
        }
        switch smtp {
        case .sent(let delivery):
            return SendResult(outcome: .sent, messageID: messageID, smtp: delivery.reply, recipients: recipients)
        case .notSent(let failure):
            return SendResult(
                outcome: .notSent, messageID: messageID, smtp: failure.error.smtp, phase: failure.phase.rawValue,
                recipients: recipients)
        case .mayHaveBeenSent(let failure):
            return SendResult(
                outcome: .outcomeUnknown, messageID: messageID, smtp: failure.error.smtp,
                phase: failure.phase.rawValue, recipients: recipients)
        }
    }
}
