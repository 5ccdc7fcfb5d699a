import Logging
import NIOCore
import SidecarCore
import SidecarMessage
import SidecarSMTP

/// A new connection for every message: connect, secure, authenticate, send, QUIT.
public struct DirectTransport: MailTransport {
    let eventLoopGroup: any EventLoopGroup
    let tlsContextCache: TLSContextCache

    public init(eventLoopGroup: any EventLoopGroup, tlsContextCache: TLSContextCache = .shared) {
        self.eventLoopGroup = eventLoopGroup
        self.tlsContextCache = tlsContextCache
    }

    public func send(
        _ message: ComposedMessage, options: SMTPSendOptions, destination: SMTPDestination, route: TransportRoute,
        deadline: NIODeadline?, beforeTransaction: BeforeTransaction?, logger: Logger
    ) async -> TransportOutcome {
        // Refused recipients never cost the accepted ones their delivery (SMTPRefusalRetry).
        var refusals = SMTPRefusalRetry(recipients: message.envelope.recipients)
        var outcome = await attempt(
            message, recipients: nil, options: options, destination: destination, deadline: deadline,
            beforeTransaction: beforeTransaction, logger: logger)
        while true {
            switch refusals.next(after: outcome.result) {
            case .finish(let result):
                outcome.result = result
                return outcome
            case .retry(let recipients):
                let previous = outcome
                outcome = await attempt(
                    message, recipients: recipients, options: options, destination: destination, deadline: deadline,
                    beforeTransaction: beforeTransaction, logger: logger)
                outcome.connect += previous.connect + previous.transaction
                outcome.retried = true
            }
        }
    }

    private func attempt(
        _ message: ComposedMessage, recipients: [String]?, options: SMTPSendOptions, destination: SMTPDestination,
        deadline: NIODeadline?, beforeTransaction: BeforeTransaction?, logger: Logger
    ) async -> TransportOutcome {
        let clock = ContinuousClock()
        let started = clock.now
        let connection: SMTPConnection
        do {
            connection = try await SMTPConnectionFactory.open(
                destination, eventLoopGroup: eventLoopGroup, logger: logger, deadline: deadline, tlsContextCache: tlsContextCache)
        } catch {
            return TransportOutcome(
                result: .notSent(SMTPSendFailure(error: error.error, phase: error.phase)),
                connect: clock.now - started, transaction: .zero)
        }
        let step = beforeTransaction.map(ConcurrentStep.init)
        let connected = clock.now
        let result = await connection.send(
            message, recipients: recipients, options: options, deadline: deadline, beforeContent: step?.gate)
        await step?.settle()
        let finished = clock.now
        await connection.quit()
        return TransportOutcome(result: result, connect: connected - started, transaction: finished - connected)
    }

    public func verify(destination: SMTPDestination, deadline: NIODeadline?, logger: Logger) async throws(SMTPFailure)
        -> SMTPCapabilities
    {
        let (configuration, token) = try await destination.authenticatedConfiguration(deadline: deadline)
        do {
            return try await SMTPClient.verify(
                configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger, deadline: deadline,
                tlsContextCache: tlsContextCache)
        } catch {
            destination.report(error, token: token)
            throw error
        }
    }
}
