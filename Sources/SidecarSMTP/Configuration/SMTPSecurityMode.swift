/// How the connection is protected.
public enum SMTPSecurityMode: String, Sendable, Hashable, CaseIterable {
    /// TLS from the first byte ("SMTPS", RFC 8314), usually port 465.
    case implicitTLS = "tls"
    /// Plain TCP, then STARTTLS (RFC 3207), which is required: if the server does not
    /// offer it the connection fails with `starttls_unavailable`, never continuing in
    /// plaintext. Usually port 587.
    case startTLS = "starttls"
    /// No encryption at all. Only when explicitly configured, for legacy relays.
    case plaintext = "none"

    /// The mode to use when the configuration does not give one: implicit TLS for port
    /// 465, STARTTLS (required) for every other port. Never plaintext.
    public static func resolved(_ mode: SMTPSecurityMode?, port: Int) -> SMTPSecurityMode {
        if let mode { return mode }
        return port == 465 ? .implicitTLS : .startTLS
    }
}
