/// Where in the session something happened; reported with every failure.
public enum SMTPPhase: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Resolving and connecting TCP.
    case connect
    /// Waiting for the 220 greeting.
    case greeting
    /// The TLS handshake (implicit TLS, or STARTTLS and its handshake).
    case tls
    /// EHLO (or HELO).
    case ehlo
    /// AUTH.
    case auth
    /// MAIL FROM (and checks made before it: size, SMTPUTF8).
    case mail
    /// RCPT TO.
    case rcpt
    /// DATA, the message itself, and the reply after the final dot.
    case data
    /// RSET.
    case reset
    /// QUIT.
    case quit

    public var description: String { rawValue }
}
