import Logging
import NIOCore
import SidecarCore
import SidecarPool
import SidecarSMTP
import Synchronization

/// Opens pooled SMTP connections (TCP, TLS, EHLO, AUTH) and closes them with QUIT.
///
/// The pool asks by key, with the destination (whose configuration holds the secret) of
/// the latest send for that key: every destination with the same key connects the same
/// way. The pool forgets it with the key's pool, so a rotated password is not kept. Only
/// a vetted ``SMTPDestination`` can be connected to.
final class SMTPConnectionFactory: PoolConnectionFactory {
    typealias Key = SMTPPoolKey
    typealias Connection = SMTPConnection
    typealias Context = SMTPDestination

    let eventLoopGroup: any EventLoopGroup
    let tlsContextCache: TLSContextCache
    let logger: Logger
    private let handshakes = Mutex<[String: Int]>([:])
    /// How far the connections being opened have got, per key.
    let setupProgress = SMTPSetupProgress()

    init(eventLoopGroup: any EventLoopGroup, tlsContextCache: TLSContextCache, logger: Logger) {
        self.eventLoopGroup = eventLoopGroup
        self.tlsContextCache = tlsContextCache
        self.logger = logger
    }

    /// TLS handshakes made per pool label.
    func tlsHandshakes(label: String) -> Int {
        handshakes.withLock { $0[label] ?? 0 }
    }

    func makeConnection(for key: SMTPPoolKey, context destination: SMTPDestination) async throws -> SMTPConnection {
        var logger = logger
        logger[metadataKey: "smtp_pool"] = "\(key.label)"
        let progress = setupProgress
        let token = progress.begin(key: key)
        let connection: SMTPConnection
        do {
            connection = try await Self.open(
                destination, eventLoopGroup: eventLoopGroup, logger: logger, tlsContextCache: tlsContextCache,
                onSetupPhase: { progress.advance(token, to: $0) })
        } catch {
            progress.end(token, connected: false)
            throw error
        }
        progress.end(token, connected: true)
        if connection.isSecure {
            handshakes.withLock { $0[key.label, default: 0] += 1 }
        }
        return connection
    }

    /// Opens a connection to `destination`; for a stored OAuth credential, with a current
    /// access token (``SMTPDestination/authenticatedConfiguration(deadline:)``).
    static func open(
        _ destination: SMTPDestination, eventLoopGroup: any EventLoopGroup, logger: Logger, deadline: NIODeadline? = nil,
        tlsContextCache: TLSContextCache, onSetupPhase: (@Sendable (SMTPPhase) -> Void)? = nil
    ) async throws(SMTPFailure) -> SMTPConnection {
        if destination.oauth != nil { onSetupPhase?(.auth) }
        let (configuration, token) = try await destination.authenticatedConfiguration(deadline: deadline)
        do {
            return try await SMTPConnection.open(
                configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger, deadline: deadline,
                tlsContextCache: tlsContextCache, onSetupPhase: onSetupPhase)
        } catch {
            destination.report(error, token: token)
            throw error
        }
    }

    func close(_ connection: SMTPConnection, gracefully: Bool) async {
        // QUIT either way: on a broken connection it only closes the socket.
        await connection.quit()
    }
}
