import NIOSSL

/// TLS as every egress path uses it: TLS 1.2 or later, certificates verified in full
/// against the system trust store (and any extra CAs the operator configured), and a
/// failed handshake told apart by what went wrong.
enum EgressTLS {
    /// What a TLS failure was, for an error message.
    enum Failure: Sendable, Hashable {
        /// The certificate does not chain to a trusted CA (self-signed, expired, unknown CA).
        case untrusted
        /// The certificate is not issued for the host name.
        case wrongName
        /// Another handshake failure.
        case handshake
    }

    /// The client context: build it once, at start-up, off any event loop (it loads the
    /// trust store).
    static func clientContext(additionalCAPEM: String?) throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.certificateVerification = .fullVerification
        if let pem = additionalCAPEM {
            tls.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)))]
        }
        return try NIOSSLContext(configuration: tls)
    }

    /// What `error` says of the TLS handshake; nil when it is not a TLS error.
    ///
    /// NIOSSL keeps BoringSSL's error codes private (apple/swift-nio-ssl#101): its error
    /// values say only "the handshake failed", so an untrusted certificate is recognised
    /// by the reason BoringSSL put in the error stack's description.
    static func failure(_ error: any Error) -> Failure? {
        if let extra = error as? NIOSSLExtraError {
            return extra == .failedToValidateHostname || extra == .serverHostnameImpossibleToMatch ? .wrongName : .handshake
        }
        guard let ssl = error as? NIOSSLError else { return nil }
        if case .handshakeFailed = ssl, "\(ssl)".contains("CERTIFICATE_VERIFY_FAILED") { return .untrusted }
        return .handshake
    }
}
