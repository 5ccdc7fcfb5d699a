/// Which optional SMTP extensions the client may use when the server offers them. Both
/// are on by default; turning one off works around a server that announces an extension
/// but breaks under it (a credential setting, so one bad server does not slow the rest).
public struct SMTPExtensionUse: Sendable, Hashable {
    /// RFC 2920: MAIL, every RCPT and DATA (or BDAT and the message) in one flight.
    public var pipelining: Bool
    /// RFC 3030: the message as `BDAT <size> LAST` and its bytes, with no 354 round trip
    /// and no dot-stuffing. Used only when the message's size is known in advance.
    public var chunking: Bool

    public init(pipelining: Bool = true, chunking: Bool = true) {
        self.pipelining = pipelining
        self.chunking = chunking
    }

    public static let all = SMTPExtensionUse()
}
