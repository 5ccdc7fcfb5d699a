/// What the server announced in its EHLO reply (RFC 5321 §4.1.1.1 and the extensions'
/// RFCs). After HELO (EHLO refused) every extension is absent.
public struct SMTPCapabilities: Sendable, Hashable {
    /// The domain the server named on the first line of its EHLO (or HELO) reply.
    public var serverName: String
    /// RFC 3207.
    public var startTLS: Bool
    /// The AUTH mechanisms offered (RFC 4954), in the server's order, upper-cased,
    /// including ones this client does not implement.
    public var authMechanisms: [String]
    /// RFC 2920.
    public var pipelining: Bool
    /// RFC 1870: whether SIZE was advertised at all.
    public var size: Bool
    /// RFC 1870: the largest message the server accepts, when it gave a non-zero limit.
    public var maximumMessageSize: Int?
    /// RFC 6152.
    public var eightBitMIME: Bool
    /// RFC 6531.
    public var smtpUTF8: Bool
    /// RFC 3461.
    public var dsn: Bool
    /// RFC 2034.
    public var enhancedStatusCodes: Bool
    /// RFC 3030 (BDAT). Parsed only; this client sends with DATA.
    public var chunking: Bool
    /// Every keyword line as sent, after the first line.
    public var keywords: [String]

    public init(
        serverName: String = "",
        startTLS: Bool = false,
        authMechanisms: [String] = [],
        pipelining: Bool = false,
        size: Bool = false,
        maximumMessageSize: Int? = nil,
        eightBitMIME: Bool = false,
        smtpUTF8: Bool = false,
        dsn: Bool = false,
        enhancedStatusCodes: Bool = false,
        chunking: Bool = false,
        keywords: [String] = []
    ) {
        self.serverName = serverName
        self.startTLS = startTLS
        self.authMechanisms = authMechanisms
        self.pipelining = pipelining
        self.size = size
        self.maximumMessageSize = maximumMessageSize
        self.eightBitMIME = eightBitMIME
        self.smtpUTF8 = smtpUTF8
        self.dsn = dsn
        self.enhancedStatusCodes = enhancedStatusCodes
        self.chunking = chunking
        self.keywords = keywords
    }

    /// Whether the server offers `mechanism`.
    public func offers(_ mechanism: SMTPAuthMechanism) -> Bool {
        authMechanisms.contains(mechanism.rawValue)
    }

    /// Parses the lines of a 250 EHLO reply; the first is the server's greeting.
    init(ehloLines lines: [String]) {
        self.init()
        serverName = lines.first.map { $0.split(separator: " ", maxSplits: 1).first.map(String.init) ?? "" } ?? ""
        for line in lines.dropFirst() {
            keywords.append(line)
            // "AUTH=PLAIN LOGIN" is the pre-RFC 4954 form some servers still send.
            let words = line.split(whereSeparator: { $0 == " " || $0 == "=" }).map { String($0) }
            guard let keyword = words.first?.uppercased() else { continue }
            let parameters = words.dropFirst()
            switch keyword {
            case "STARTTLS": startTLS = true
            case "AUTH":
                for mechanism in parameters.map({ $0.uppercased() }) where !authMechanisms.contains(mechanism) {
                    authMechanisms.append(mechanism)
                }
            case "PIPELINING": pipelining = true
            case "SIZE":
                size = true
                if let limit = parameters.first.flatMap({ Int($0) }), limit > 0 { maximumMessageSize = limit }
            case "8BITMIME": eightBitMIME = true
            case "SMTPUTF8": smtpUTF8 = true
            case "DSN": dsn = true
            case "ENHANCEDSTATUSCODES": enhancedStatusCodes = true
            case "CHUNKING": chunking = true
            default: break
            }
        }
    }
}
