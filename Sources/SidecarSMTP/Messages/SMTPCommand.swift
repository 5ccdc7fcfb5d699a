import SidecarCore

/// A command the client sends (RFC 5321 §4.1), or a line of an AUTH exchange or the end of
/// the message data.
///
/// AUTH payloads are ``Secret``s: ``description`` (what logs show) redacts them, and only
/// the encoder reveals them, to the wire.
enum SMTPCommand: Sendable, Hashable, CustomStringConvertible {
    case ehlo(String)
    case helo(String)
    case startTLS
    /// `AUTH <mechanism> [initial-response]`; the initial response is already base64.
    case auth(SMTPAuthMechanism, initialResponse: Secret?)
    /// A continuation line of an AUTH exchange, already base64 (may be empty).
    case authResponse(Secret)
    /// `MAIL FROM:<reverse-path> [parameters]`.
    case mail(reversePath: String, parameters: [String])
    /// `RCPT TO:<forward-path> [parameters]`.
    case rcpt(forwardPath: String, parameters: [String])
    case data
    /// `BDAT <size> [LAST]` (RFC 3030): exactly `size` bytes of the message follow, as they
    /// are (no dot-stuffing).
    case bdat(size: Int, last: Bool)
    /// The end of the message data: `.` CRLF. The body writer has made sure the data
    /// before it ends with CRLF.
    case endOfData
    case rset
    case noop
    case quit

    /// The command as it may be logged: AUTH payloads are replaced by `<redacted>`.
    var description: String {
        switch self {
        case .ehlo(let name): "EHLO \(name)"
        case .helo(let name): "HELO \(name)"
        case .startTLS: "STARTTLS"
        case .auth(let mechanism, let initialResponse):
            initialResponse == nil ? "AUTH \(mechanism.rawValue)" : "AUTH \(mechanism.rawValue) \(Secret.redacted)"
        case .authResponse: Secret.redacted
        case .mail(let path, let parameters): (["MAIL FROM:<\(path)>"] + parameters).joined(separator: " ")
        case .rcpt(let path, let parameters): (["RCPT TO:<\(path)>"] + parameters).joined(separator: " ")
        case .data: "DATA"
        case .bdat(let size, let last): last ? "BDAT \(size) LAST" : "BDAT \(size)"
        case .endOfData: "."
        case .rset: "RSET"
        case .noop: "NOOP"
        case .quit: "QUIT"
        }
    }

    /// The command line without its CRLF, secrets revealed. Only the encoder calls this.
    var wireLine: String {
        switch self {
        case .auth(let mechanism, let initialResponse?):
            "AUTH \(mechanism.rawValue) \(initialResponse.revealedValue)"
        case .authResponse(let payload):
            payload.revealedValue
        case .ehlo, .helo, .startTLS, .auth, .mail, .rcpt, .data, .bdat, .endOfData, .rset, .noop, .quit:
            description
        }
    }
}
