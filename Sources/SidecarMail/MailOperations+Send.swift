import FoundationEssentials
import Logging
import NIOCore
import SidecarCore
import SidecarEgress
import SidecarMessage
import SidecarProtocol
import SidecarSMTP
import SidecarState

extension MailOperations {
    /// One send, cheapest refusals first: credential and port, mail loop, duplicate
    /// suppression, rate limits, the SSRF guard, URL attachments, composition; then SMTP.
    /// Nothing reaches the SMTP server unless every check passed.
    public func send(_ params: SendParams, logger: Logger) async -> Response.Outcome {
        let response = await sendAnswer(params, logger: logger)
        // One place sees every answer, whichever step gave it.
        metrics.sendAnswered(response)
        return response
    }

    private func sendAnswer(_ params: SendParams, logger: Logger) async -> Response.Outcome {
        let clock = ContinuousClock()
        let started = clock.now
        // The request's deadline bounds every step done for it, from here.
        let deadline = params.timeoutMs.map { NIODeadline.now() + .milliseconds(Int64($0)) }
        var logger = logger
        // One merge, not a subscript set per key, nor one per step: each copies the
        // handler and its metadata.
        var metadata: Logger.Metadata = ["workspace_id": "\(params.workspaceID)"]
        if let id = params.credential?.id ?? params.credentialID {
            metadata["credential_id"] = "\(id)"
        }

        let credential: CredentialParams
        let configuration: SMTPConfiguration
        let oauth: OAuthTokenSource?
        let limits: RateLimits?
        do {
            let requested = try await self.credential(
                inline: params.credential, storedID: params.credentialID, workspace: params.workspaceID)
            credential = requested.params
            (configuration, oauth) = try self.configuration(for: requested, workspace: params.workspaceID)
            metadata["smtp_host"] = "\(configuration.host)"
            metadata["smtp_port"] = "\(configuration.port)"
            metadata["smtp_security"] = "\(configuration.resolvedSecurity.rawValue)"
            // Checked even when this daemon keeps no rate counters.
            limits = try credential.limits?.rateLimits()
            try MailLoopGuard.check(params)
        } catch {
            logger.handler.metadata.merge(metadata) { _, new in new }
            return refuse(error, params: params, logger: logger)
        }
        logger.handler.metadata.merge(metadata) { _, new in new }

        // Duplicate suppression: the first of identical sends proceeds, the others get its
        // result (concurrent ones wait for it, until their own deadline). A send that counts
        // no rate limit may claim its key optimistically, at its `pending` mark; when the
        // mark finds an identical send of another host first, it sent nothing and begins
        // again, the careful way, to wait for that send's result.
        let window = params.dedupWindowSeconds.map { Duration.seconds($0) } ?? policy.defaultDedupWindow
        var optimistic = limits == nil
            && policy.rateLimiter.map { $0.exhaustion(key: params.rateKey(credential: credential), now: Date()) == nil } ?? true
        while true {
            let claimLoss = optimistic ? DedupClaimLoss() : nil
            let answer = await sendOnce(
                params, credential: credential, limits: limits, configuration: configuration, oauth: oauth,
                window: window, optimistic: optimistic, claimLoss: claimLoss, deadline: deadline, started: started,
                logger: logger)
            switch answer {
            case .answered(let outcome): return outcome
            case .claimLost: optimistic = false  // at most once: the careful way claims before its mark
            }
        }
    }

    /// What one try at a send came to: an answer, or an optimistic claim that lost at the
    /// mark (nothing was sent).
    enum SendTry {
        case answered(Response.Outcome)
        case claimLost
    }

    /// Duplicate suppression's `begin`, then the send, then its outcome recorded.
    private func sendOnce(
        _ params: SendParams, credential: CredentialParams, limits: RateLimits?, configuration: SMTPConfiguration,
        oauth: OAuthTokenSource?, window: Duration, optimistic: Bool, claimLoss: DedupClaimLoss?, deadline: NIODeadline?,
        started: ContinuousClock.Instant, logger: Logger
    ) async -> SendTry {
        var ticket: DedupTicket?
        if let dedup = policy.dedup, window > .zero {
            let key = params.dedupKey(credential: credential)
            let deadline = params.timeoutMs.map { started + .milliseconds($0) }
            do {
                let resolution = optimistic
                    ? try await dedup.beginOptimistically(key: key, window: window, deadline: deadline)
                    : try await dedup.begin(key: key, window: window, deadline: deadline)
                switch resolution {
                case .proceed(let granted):
                    ticket = granted
                case .duplicate(let json):
                    return .answered(duplicate(json, params: params, logger: logger))
                case .abandoned(let since):
                    let error = SidecarError(
                        code: .outcomeUnknown,
                        message: "An identical send started at \(since) was interrupted (the sidecar stopped) and may "
                            + "have been delivered; it is not sent again within the duplicate window.")
                    return .answered(refuse(error, params: params, logger: logger, outcome: .outcomeUnknown))
                case .inProgressAtDeadline:
                    let error = SidecarError(
                        code: .requestTimeout,
                        message: "An identical send was still in progress when this request's timeout_ms passed; "
                            + "this request sent nothing (a retry gets the identical send's result).",
                        retryable: true)
                    return .answered(refuse(error, params: params, logger: logger))
                }
            } catch {
                return .answered(refuse(stateFailure(error), params: params, logger: logger))
            }
        }

        let outcome = await sendChecked(
            params, credential: credential, limits: limits, configuration: configuration, oauth: oauth, deadline: deadline,
            started: started,
            beforeTransaction: ticket.flatMap {
                Self.markPending($0, dedup: policy.dedup, claimLoss: claimLoss, metrics: metrics, logger: logger)
            },
            claimLoss: claimLoss, logger: logger)
        if let ticket, let dedup = policy.dedup {
            let sentOrUnknown = outcome.result.outcome != .notSent
            let json = outcome.result.jsonText
            let outcomeName = outcome.result.outcome.rawValue
            let logger = logger
            let metrics = metrics
            // Not awaited: it commits without waiting for the disk, and the database's work runs
            // in order, so any later request of this process sees it.
            dedup.completeLater(ticket, resultJSON: json, countsAsSent: sentOrUnknown) { error in
                // Waiting identical sends in this process are answered from memory; another
                // process, or this one after a restart, sees the record as possibly sent.
                let failure = Self.stateError(error)
                metrics.stateFailed(failure)
                logger.error("Recording a send's outcome for duplicate suppression failed", metadata: [
                    "outcome": "\(outcomeName)", "error": "\(failure.message)",
                ])
            }
        }
        if let claimLoss, claimLoss.isLost, outcome.result.outcome == .notSent { return .claimLost }
        if let error = outcome.error {
            return .answered(finish(outcome.result, error: error, params: params))
        }
        return .answered(.success(outcome.result))
    }

    /// A send whose record an identical send took over before its mark: it was not sent.
    static let claimLostError = SidecarError(
        code: .internalError,
        message: "This send waited so long that an identical send took over its duplicate-suppression record; it was not sent.")

    /// Marks the dedup record "may have been sent" once the send's connection is in hand,
    /// while its envelope goes out (or, among other sends, before it does); the message's
    /// content waits for it: a send that cannot record that does not go out.
    static func markPending(
        _ ticket: DedupTicket, dedup: (any DedupStoring)?, claimLoss: DedupClaimLoss?, metrics: MailMetrics = .none,
        logger: Logger
    ) -> BeforeTransaction? {
        guard let dedup else { return nil }
        return { () async throws(SidecarError) in
            let marked: Bool
            do {
                marked = try await dedup.markPending(ticket)
            } catch {
                let failure = stateError(error)
                metrics.stateFailed(failure)
                logger.error("Recording that a send may go out failed; it was not sent", metadata: [
                    "error": "\(failure.message)",
                ])
                throw failure
            }
            guard marked else {
                if let claimLoss {
                    // Optimistic: another host's identical send came first. Its result is
                    // this one's answer.
                    claimLoss.record()
                    logger.info("An identical send (on another host) claimed this email first; waiting for its result")
                    throw claimLostError
                }
                logger.error("This send's duplicate-suppression record was given up and taken over; it was not sent")
                throw claimLostError
            }
        }
    }

    /// Gives a send that did not go out back to its rate limit; a failure is logged (the
    /// send then stays counted, the safe side).
    private func refund(_ ticket: RateTicket?, logger: Logger) async {
        guard let ticket, let limiter = policy.rateLimiter else { return }
        do {
            try await limiter.refund(ticket)
        } catch {
            logger.error("Refunding a send that did not go out to its rate limit failed; it stays counted", metadata: [
                "error": "\(stateFailure(error).message)",
            ])
        }
    }

    /// The send after the request-level checks: rate limit, guard, fetch, compose, SMTP.
    private func sendChecked(
        _ params: SendParams, credential: CredentialParams, limits: RateLimits?,
        configuration: SMTPConfiguration, oauth: OAuthTokenSource?, deadline: NIODeadline?, started: ContinuousClock.Instant,
        beforeTransaction: BeforeTransaction?, claimLoss: DedupClaimLoss?, logger: Logger
    ) async -> (result: SendResult, error: SidecarError?) {
        let clock = ContinuousClock()
        var logger = logger
        var rateTicket: RateTicket?
        let destination: SMTPDestination
        let message: ComposedMessage
        do throws(SidecarError) {
            if let limiter = policy.rateLimiter,
                let exhausted = limiter.exhaustion(key: params.rateKey(credential: credential), now: Date())
            {
                let error = SidecarError(quotaSpent: exhausted, now: Date())
                metrics.rateLimited(error.code)
                throw error
            }
            if let limiter = policy.rateLimiter, let limits {
                let key = params.rateKey(credential: credential)
                let decision: RateDecision
                do {
                    // Providers count their limits in recipients.
                    let recipients = params.draft.envelopeRecipientCount ?? 1
                    decision = try await limiter.acquire(key: key, limits: limits, recipients: recipients, now: Date())
                } catch {
                    throw stateFailure(error)
                }
                switch decision {
                case .allowed(let granted):
                    rateTicket = granted
                case .limited(let retryAfter, let reason):
                    let error = SidecarError(rateLimitedFor: retryAfter, reason: reason)
                    metrics.rateLimited(error.code)
                    throw error
                }
            }
            destination = try await self.destination(for: configuration, oauth: oauth)
            var draft = params.draft
            for (index, attachment) in (params.attachments ?? []).enumerated() {
                guard let url = attachment.url else { continue }
                guard let fetcher = policy.fetcher else {
                    throw SidecarError(
                        code: .attachmentFetchFailed, message: "URL attachments are not enabled in this sidecar.",
                        field: "params.attachments[\(index)].url")
                }
                let fetched = try await fetcher.fetch(
                    url, name: attachment.filename, field: "params.attachments[\(index)].url", deadline: deadline)
                draft.attachments[index].content = .source(FetchedAttachmentSource(fetched))
            }
            do {
                message = try composer.compose(draft)
            } catch {
                throw SidecarError(error)
            }
        } catch {
            await refund(rateTicket, logger: logger)
            Self.logRefusal(error, outcome: .notSent, logger: logger)
            return (SendResult(outcome: .notSent, messageID: nil), error)
        }
        // Nothing may go out once the request's time is up (a warm connection would
        // otherwise write the message before the deadline timer fires).
        if let deadline, deadline <= .now() {
            await refund(rateTicket, logger: logger)
            let error = Self.deadlinePassed(before: "connecting to the server")
            Self.logRefusal(error, outcome: .notSent, logger: logger)
            return (SendResult(outcome: .notSent, messageID: nil, phase: SMTPPhase.connect.rawValue), error)
        }
        let composed = clock.now
        // Not `message_id`: journald reserves MESSAGE_ID for its message catalog.
        logger[metadataKey: "email_message_id"] = "\(message.messageID)"

        let route = TransportRoute(workspaceID: params.workspaceID, credentialID: credential.id ?? "")
        let outcome = await transport.send(
            message, options: params.smtpOptions, destination: destination, route: route, deadline: deadline,
            beforeTransaction: beforeTransaction, logger: logger)
        let result = Self.result(outcome.result, messageID: message.messageID)
        if let claimLoss, claimLoss.isLost, result.outcome == .notSent {
            // Not a failure of this send's server: it is tried again, waiting for the identical one.
            await refund(rateTicket, logger: logger)
            return (result, Self.claimLostError)
        }
        metrics.sendTimed(connect: outcome.connect, transaction: outcome.transaction, total: clock.now - started)
        if result.outcome == .notSent { await refund(rateTicket, logger: logger) }

        let error: SidecarError?
        let level: Logger.Level
        let text: Logger.Message
        switch outcome.result {
        case .sent:
            (error, level, text) = (nil, .info, "Sent")
        case .notSent(let failure), .mayHaveBeenSent(let failure):
            (error, level, text) = (
                ProviderReply.refine(failure.error), .warning, result.outcome == .outcomeUnknown ? "Send outcome unknown" : "Send failed"
            )
        }
        if let id = params.credentialID {
            // A stored credential's outcome at its server, for `credential_status`.
            if let error {
                health.failed(workspace: params.workspaceID, id: id, error: error)
            } else {
                health.succeeded(workspace: params.workspaceID, id: id)
            }
        }
        if let error, error.code == .quotaExceeded, let limiter = policy.rateLimiter {
            // The provider says the quota is spent: refuse locally until it frees some.
            let key = params.rateKey(credential: credential)
            let until = Date().addingTimeInterval(Double(error.retryAfterMs ?? 3_600_000) / 1000)
            do {
                try await limiter.markExhausted(key: key, QuotaExhaustion(until: until, reason: error.smtp.map { "\($0)" } ?? error.message))
            } catch {
                logger.error("Recording that the provider's quota is spent failed", metadata: [
                    "error": "\(stateFailure(error).message)",
                ])
            }
        }
        // The entry is a dozen formatted values: build it only if it is logged.
        guard logger.logLevel <= level else { return (result, error) }
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
        if let error { entry["error_code"] = "\(error.code)" }
        logger.log(level: level, text, metadata: entry)
        return (result, error)
    }

    /// The request's `timeout_ms` passed before anything went to the server.
    static func deadlinePassed(before step: String) -> SidecarError {
        SidecarError(
            code: .requestTimeout,
            message: "The time allowed for this request (timeout_ms) ran out before \(step). Nothing was sent; "
                + "try again later or allow more time.",
            retryable: true)
    }

    /// A refusal before anything was attempted.
    func refuse(
        _ error: SidecarError, params: SendParams, logger: Logger, outcome: SendResult.Outcome = .notSent
    ) -> Response.Outcome {
        Self.logRefusal(error, outcome: outcome, logger: logger)
        return finish(SendResult(outcome: outcome, messageID: nil), error: error, params: params)
    }

    /// The one journald entry of a send refused before reaching the SMTP server.
    static func logRefusal(_ error: SidecarError, outcome: SendResult.Outcome, logger: Logger) {
        logger.warning("Send refused", metadata: [
            "outcome": "\(outcome.rawValue)", "error_code": "\(error.code)", "error_field": "\(error.field ?? "")",
        ])
    }

    /// The earlier result of an identical send, marked as a duplicate.
    func duplicate(_ json: String, params: SendParams, logger: Logger) -> Response.Outcome {
        var result: SendResult
        do {
            result = try SendResult(json: json)
        } catch {
            return refuse(error, params: params, logger: logger)
        }
        result.duplicate = true
        logger.info("Duplicate send suppressed", metadata: [
            "outcome": "\(result.outcome.rawValue)", "email_message_id": "\(result.messageID ?? "")",
        ])
        if let error = result.error ?? (result.outcome == .outcomeUnknown
            ? SidecarError(code: .outcomeUnknown, message: "An identical send may have been delivered already.") : nil)
        {
            return finish(result, error: error, params: params)
        }
        return .success(result)
    }

    /// An error response, or with `on_error: continue` a success carrying the error.
    func finish(_ result: SendResult, error: SidecarError, params: SendParams) -> Response.Outcome {
        switch params.onError ?? .stop {
        case .stop:
            var result = result
            result.error = nil
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

    /// ``stateError(_:)``, counted in the metrics.
    func stateFailure(_ error: any Error) -> SidecarError {
        let failure = Self.stateError(error)
        metrics.stateFailed(failure)
        return failure
    }

    static func stateError(_ error: any Error) -> SidecarError {
        if let error = SidecarError(state: error) { return error }
        // Requests are cancelled only when a stopping daemon's drain time runs out.
        if error is CancellationError {
            return SidecarError(
                code: .shuttingDown, message: "The sidecar stopped before this send started; nothing was sent.",
                retryable: true)
        }
        return SidecarError(code: .internalError, message: "The sidecar's state database failed.")
    }
}
