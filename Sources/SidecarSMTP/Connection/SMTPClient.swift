import Logging
import NIOCore
import SidecarCore
import SidecarMessage

/// One-shot operations over a fresh connection.
public enum SMTPClient {
    /// Connects, secures, authenticates and QUITs: checks that a configuration works.
    /// Returns what the server announced.
    public static func verify(
        configuration: SMTPConfiguration,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger,
        deadline: NIODeadline? = nil,
        tlsContextCache: TLSContextCache = .shared
    ) async throws(SMTPFailure) -> SMTPCapabilities {
        let connection = try await SMTPConnection.open(
            configuration: configuration,
            eventLoopGroup: eventLoopGroup,
            logger: logger,
            deadline: deadline,
            tlsContextCache: tlsContextCache
        )
        await connection.quit()
        return connection.capabilities
    }

    /// Connects, sends one message and QUITs. A failure to connect is a `notSent` result
    /// with the phase that failed.
    public static func send(
        _ message: ComposedMessage,
        options: SMTPSendOptions = SMTPSendOptions(),
        configuration: SMTPConfiguration,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger,
        deadline: NIODeadline? = nil,
        tlsContextCache: TLSContextCache = .shared
    ) async -> SMTPSendResult {
        let connection: SMTPConnection
        do {
            connection = try await SMTPConnection.open(
                configuration: configuration,
                eventLoopGroup: eventLoopGroup,
                logger: logger,
                deadline: deadline,
                tlsContextCache: tlsContextCache
            )
        } catch {
            return .notSent(SMTPSendFailure(error: error.error, phase: error.phase))
        }
        let result = await connection.send(message, options: options, deadline: deadline)
        await connection.quit()
        return result
    }
}
