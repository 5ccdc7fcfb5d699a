#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NIOCore
import NIOPosix
import NIOSSL
import SidecarCore

extension SidecarError {
    /// Words an error from the channel (TLS, I/O, decoding) for the user. The state machine
    /// adds the phase and turns it into "may have been sent" after the final dot.
    static func smtpChannelError(_ error: any Error, host: String) -> SidecarError {
        if let error = error as? SidecarError { return error }
        if let error = error as? SMTPReplyDecodingError {
            return .smtpProtocolError(error.description)
        }
        if let error = error as? NIOSSLExtraError {
            switch error {
            case .failedToValidateHostname, .serverHostnameImpossibleToMatch:
                return .smtpCertificateInvalid("it is not issued for \(host)")
            default:
                return .smtpTLSFailed("\(error)")
            }
        }
        if let error = error as? NIOSSLError {
            switch error {
            case .handshakeFailed(let inner):
                let text = String(describing: inner)
                if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("certificate verify failed") {
                    return .smtpCertificateInvalid("it is self-signed, expired, or from an unknown certificate authority")
                }
                return .smtpTLSFailed(Self.tlsReason(text))
            case .uncleanShutdown:
                return .smtpTLSFailed("the server closed the connection during the handshake")
            default:
                return .smtpTLSFailed("\(error)")
            }
        }
        if let error = error as? BoringSSLError {
            return .smtpTLSFailed(Self.tlsReason(String(describing: error)))
        }
        if let error = error as? ChannelError, case .connectTimeout = error {
            return SidecarError(
                code: .timeout,
                message: "The connection to \(host) was not established in time. Check the host and port, and that outbound SMTP is allowed.",
                retryable: true
            )
        }
        return SidecarError(
            code: .connectionFailed,
            message: "The connection to \(host) failed (\(Self.ioReason(error))). Check the host and port, and that outbound SMTP is allowed.",
            retryable: true
        )
    }

    static func smtpCertificateInvalid(_ reason: String) -> SidecarError {
        SidecarError(
            code: .certificateInvalid,
            message: "The server's certificate is not trusted: \(reason). Fix the server's certificate, add its CA, "
                + "or allow unverified certificates (a security trade-off).",
            retryable: false
        )
    }

    static func smtpTLSFailed(_ reason: String) -> SidecarError {
        SidecarError(
            code: .tlsFailed,
            message: "The TLS handshake with the server failed (\(reason)). Check the security setting "
                + "(465: TLS from the start; 587: STARTTLS) and the minimum TLS version.",
            retryable: true
        )
    }

    /// The short reason out of a BoringSSL error stack ("WRONG_VERSION_NUMBER").
    private static func tlsReason(_ text: String) -> String {
        let known = [
            "WRONG_VERSION_NUMBER", "UNSUPPORTED_PROTOCOL", "TLSV1_ALERT_PROTOCOL_VERSION", "NO_SHARED_CIPHER",
            "HANDSHAKE_FAILURE", "SSLV3_ALERT_HANDSHAKE_FAILURE", "TLSV1_ALERT_INTERNAL_ERROR", "PACKET_LENGTH_TOO_LONG",
        ]
        if let match = known.first(where: text.contains) { return match.lowercased().split(separator: "_").joined(separator: " ") }
        return "handshake error"
    }

    /// Why a connection failed, in words: never a raw NIO or system error description
    /// (those name NIO's types and file paths, not the user's problem).
    static func ioReason(_ error: any Error) -> String {
        if let error = error as? IOError { return errnoReason(error.errnoCode) }
        if let error = error as? NIOConnectionError {
            guard !error.connectionErrors.isEmpty else {
                return error.dnsAAAAError ?? error.dnsAError != nil ? "host name not found" : "no address to connect to"
            }
            return error.connectionErrors.map { "\($0.target.ipAddress ?? "an address"): \(ioReason($0.error))" }
                .joined(separator: "; ")
        }
        if let error = error as? ChannelError {
            switch error {
            case .connectTimeout: return "timed out"
            case .ioOnClosedChannel, .alreadyClosed, .outputClosed, .inputClosed, .eof: return "connection closed"
            default: return "connection error"
            }
        }
        return "connection error"
    }

    /// A socket error number in words.
    static func errnoReason(_ code: CInt) -> String {
        switch code {
        case ECONNREFUSED: "connection refused"
        case ETIMEDOUT: "timed out"
        case EHOSTUNREACH: "host unreachable"
        case ENETUNREACH: "network unreachable"
        case ECONNRESET: "connection reset by the server"
        case EPIPE: "connection closed by the server"
        case EADDRNOTAVAIL: "local address not available"
        case EACCES, EPERM: "not permitted on this machine (a firewall or policy blocks it)"
        default: "system error \(code)"
        }
    }
}
