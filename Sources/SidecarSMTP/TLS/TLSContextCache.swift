import NIOCore
import NIOPosix
import NIOSSL
import SidecarCore
import Synchronization

/// Builds each `NIOSSLContext` once per distinct TLS settings and shares it.
///
/// Building a context loads the system trust store and parses PEM: slow, blocking work
/// that must not run on an event loop. ``context(for:)`` runs it on a `NIOThreadPool`.
/// Two first uses of the same settings at once may both build; the first stored wins and
/// both get a working context.
public final class TLSContextCache: Sendable {
    /// The process-wide cache.
    public static let shared = TLSContextCache()

    private let contexts = Mutex<[TLSContextKey: NIOSSLContext]>([:])
    private let threadPool: NIOThreadPool

    public init(threadPool: NIOThreadPool = .singleton) {
        self.threadPool = threadPool
    }

    /// How many distinct contexts are cached.
    public var count: Int { contexts.withLock { $0.count } }

    /// The context for `settings`, built off the event loop on first use.
    public func context(for settings: SMTPTLSSettings) async throws(SidecarError) -> NIOSSLContext {
        let key = settings.contextKey
        if let cached = contexts.withLock({ $0[key] }) { return cached }
        let built: NIOSSLContext
        do {
            built = try await threadPool.runIfActive { try Self.makeContext(key) }
        } catch let error as SidecarError {
            throw error
        } catch {
            throw SidecarError(
                code: .tlsFailed,
                message: "The TLS settings could not be prepared (\(error)).",
                retryable: false
            )
        }
        return contexts.withLock { contexts in
            if let existing = contexts[key] { return existing }
            contexts[key] = built
            return built
        }
    }

    /// Blocking. Never call on an event loop.
    static func makeContext(_ key: TLSContextKey) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = key.minimumVersion == .tls13 ? .tlsv13 : .tlsv12
        configuration.certificateVerification = key.acceptUnverifiedCertificates ? .none : .fullVerification
        if let pem = key.additionalCAPEM {
            let certificates: [NIOSSLCertificate]
            do {
                certificates = try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8))
            } catch {
                throw SidecarError(
                    code: .certificateInvalid,
                    message: "The extra CA certificate given for this server is not a valid PEM certificate.",
                    retryable: false
                )
            }
            guard !certificates.isEmpty else {
                throw SidecarError(
                    code: .certificateInvalid,
                    message: "The extra CA certificate given for this server contains no certificate.",
                    retryable: false
                )
            }
            configuration.additionalTrustRoots = [.certificates(certificates)]
        }
        return try NIOSSLContext(configuration: configuration)
    }
}
