/// Time limits per phase. The defaults are RFC 5321 §4.5.3.2's for the server's replies;
/// the overall deadline of an operation comes on top and is passed per call.
public struct SMTPTimeouts: Sendable, Hashable {
    /// TCP connect, per address tried. Default 30 s.
    public var connect: Duration
    /// The TLS handshake (implicit TLS or after STARTTLS). Default 30 s.
    public var tlsHandshake: Duration
    /// The 220 greeting. Default 5 min.
    public var greeting: Duration
    /// Replies to EHLO/HELO, STARTTLS, AUTH, RSET and QUIT. Default 5 min.
    public var command: Duration
    /// The reply to MAIL FROM. Default 5 min.
    public var mail: Duration
    /// The reply to each RCPT TO. Default 5 min.
    public var rcpt: Duration
    /// The 354 reply to DATA. Default 2 min.
    public var dataInitiation: Duration
    /// Each chunk of the message going out (the server not reading). Default 3 min.
    public var dataBlock: Duration
    /// The reply after the final dot. Default 10 min.
    public var dataTermination: Duration

    public init(
        connect: Duration = .seconds(30),
        tlsHandshake: Duration = .seconds(30),
        greeting: Duration = .seconds(300),
        command: Duration = .seconds(300),
        mail: Duration = .seconds(300),
        rcpt: Duration = .seconds(300),
        dataInitiation: Duration = .seconds(120),
        dataBlock: Duration = .seconds(180),
        dataTermination: Duration = .seconds(600)
    ) {
        self.connect = connect
        self.tlsHandshake = tlsHandshake
        self.greeting = greeting
        self.command = command
        self.mail = mail
        self.rcpt = rcpt
        self.dataInitiation = dataInitiation
        self.dataBlock = dataBlock
        self.dataTermination = dataTermination
    }

    /// RFC 5321 §4.5.3.2 with 30 s for connect and TLS.
    public static let `default` = SMTPTimeouts()
}
