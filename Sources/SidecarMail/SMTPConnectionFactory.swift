import Logging
import NIOCore
import SidecarCore
import SidecarPool
import SidecarSMTP
import Synchronization

/// Opens pooled SMTP connections (TCP, TLS, EHLO, AUTH) and closes them with QUIT.
///
/// The pool asks by key; the configuration for a key (which holds the secret) is the one
/// the latest send registered for it: every configuration with the same key connects the
/// same way.
final class SMTPConnectionFactory: PoolConnectionFactory {
    typealias Key = SMTPPoolKey
    typealias Connection = SMTPConnection

    let eventLoopGroup: any EventLoopGroup
    let tlsContextCache: TLSContextCache
    let logger: Logger
    private let configurations = Mutex<[SMTPPoolKey: SMTPConfiguration]>([:])
    private let handshakes = Mutex<[String: Int]>([:])

    init(eventLoopGroup: any EventLoopGroup, tlsContextCache: TLSContextCache, logger: Logger) {
        self.eventLoopGroup = eventLoopGroup
        self.tlsContextCache = tlsContextCache
        self.logger = logger
    }

    func register(_ configuration: SMTPConfiguration, for key: SMTPPoolKey) {
        configurations.withLock { $0[key] = configuration }
    }

    func forget(_ key: SMTPPoolKey) {
        configurations.withLock { $0[key] = nil }
    }

    /// TLS handshakes made per pool label.
    func tlsHandshakes(label: String) -> Int {
        handshakes.withLock { $0[label] ?? 0 }
    }

    func makeConnection(for key: SMTPPoolKey) async throws -> SMTPConnection {
        guard let configuration = configurations.withLock({ $0[key] }) else {
            throw SMTPFailure(
                error: .init(code: .internalError, message: "No configuration for a pooled connection."), phase: .connect)
        }
        var logger = logger
        logger[metadataKey: "smtp_pool"] = "\(key.label)"
        let connection = try await SMTPConnection.open(
            configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger, tlsContextCache: tlsContextCache)
        if connection.isSecure {
            handshakes.withLock { $0[key.label, default: 0] += 1 }
        }
        return connection
    }

    func close(_ connection: SMTPConnection, gracefully: Bool) async {
        // QUIT either way: on a broken connection it only closes the socket.
        await connection.quit()
    }
}
