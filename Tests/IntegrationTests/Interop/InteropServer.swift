import SidecarProtocol
import Testing

/// The real SMTP servers of `scripts/interop-harness.sh`, and what each offers as the
/// harness runs it (stock settings but for TLS, AUTH and delivery). The matrix's verify
/// case checks these declarations against each server's EHLO, so the cases that branch on
/// them branch on what the server really does.
enum InteropServer: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// Debian's exim4-daemon-heavy 4.96 with a private configuration.
    case exim
    /// Debian's chasquid 1.11.
    case chasquid
    /// aiosmtpd from PyPI, with its TLS and AUTH options.
    case aiosmtpd
    /// Debian's OpenSMTPD 6.8, plaintext only.
    case opensmtpd
    /// Postfix with its stock error limits (the Postfix harness's stocksubmission listener).
    case postfix

    var testDescription: String { rawValue }

    /// Why the harness runs this server without TLS, or nil when it has STARTTLS and
    /// implicit TLS.
    var noTLSReason: String? {
        switch self {
        case .opensmtpd:
            "OpenSMTPD 6.8 (Debian 12) cannot complete a TLS handshake with OpenSSL 3 (upstream issues "
                + "#1171 and #1239), so the harness runs it in plaintext, and it offers AUTH only over TLS"
        case .exim, .chasquid, .aiosmtpd, .postfix:
            nil
        }
    }

    /// The security modes the harness serves it with, STARTTLS first.
    var securityModes: [CredentialParams.Security] {
        noTLSReason == nil ? [.starttls, .tls] : [.none]
    }

    /// The mode of the cases that are not about TLS: STARTTLS where there is TLS.
    var primarySecurity: CredentialParams.Security { securityModes[0] }

    /// The AUTH mechanisms it offers after TLS.
    var authMechanisms: [String] {
        switch self {
        case .exim, .aiosmtpd, .postfix: ["PLAIN", "LOGIN"]
        case .chasquid: ["PLAIN"]
        case .opensmtpd: []
        }
    }

    var offersSMTPUTF8: Bool {
        switch self {
        case .exim, .chasquid, .postfix: true
        case .aiosmtpd, .opensmtpd: false
        }
    }

    var offersChunking: Bool {
        switch self {
        case .exim, .postfix: true
        case .chasquid, .aiosmtpd, .opensmtpd: false
        }
    }

    var offersDSN: Bool {
        switch self {
        case .postfix, .opensmtpd: true
        case .exim, .chasquid, .aiosmtpd: false
        }
    }

    var offersPipelining: Bool {
        switch self {
        case .exim, .chasquid, .postfix: true
        case .aiosmtpd, .opensmtpd: false
        }
    }

    /// The EHLO keywords whose presence the declarations above claim or deny.
    var declaredExtensions: [String: Bool] {
        ["SMTPUTF8": offersSMTPUTF8, "CHUNKING": offersChunking, "DSN": offersDSN, "PIPELINING": offersPipelining]
    }
}
