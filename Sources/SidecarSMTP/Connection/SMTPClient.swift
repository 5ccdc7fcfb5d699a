import Logging
import NIOCore
import SidecarCore

/// A one-shot check over a fresh connection. (Sending one message on a fresh connection
/// is the mail engine's `DirectTransport`.)
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
}
