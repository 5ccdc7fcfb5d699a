/// An attachment URL, parsed strictly: `http` or `https`, a host, an optional port, a path
/// and query in printable ASCII. No user information (credentials in a URL are refused,
/// not sent), no whitespace or control characters, no backslashes. The fragment is dropped.
/// Pure.
public struct AttachmentURL: Sendable, Hashable {
    public enum Scheme: String, Sendable, Hashable {
        case http, https

        var defaultPort: Int {
            switch self {
            case .http: 80
            case .https: 443
            }
        }
    }

    /// Why a URL was refused; ``description`` completes "The URL …".
    public enum Failure: Error, Sendable, Hashable, CustomStringConvertible {
        case notHTTP
        case credentials
        case invalidCharacters
        case missingHost
        case invalidPort

        public var description: String {
            switch self {
            case .notHTTP: "is not an http or https URL"
            case .credentials: "contains a user name or password; credentials in URLs are refused"
            case .invalidCharacters: "contains spaces, control characters, backslashes or non-ASCII characters (percent-encode them)"
            case .missingHost: "has no host"
            case .invalidPort: "has an invalid port"
            }
        }
    }

    public let scheme: Scheme
    /// The host as written, brackets included for IPv6 (`[2001:db8::1]`).
    public let host: String
    public let port: Int
    /// The request target: path and query, at least `/`.
    public let target: String
    /// Whether the port was written out (it then appears in the Host header).
    let explicitPort: Bool

    public init(_ text: String) throws(Failure) {
        guard text.utf8.count <= 8192,
            text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\\") })
        else {
            let lower = text.lowercased()
            if !(lower.hasPrefix("http://") || lower.hasPrefix("https://")) { throw .notHTTP }
            throw .invalidCharacters
        }
        guard let colon = text.firstIndex(of: ":"), text[colon...].hasPrefix("://") else { throw .notHTTP }
        guard let scheme = Scheme(rawValue: text[..<colon].lowercased()) else { throw .notHTTP }
        var rest = text[text.index(colon, offsetBy: 3)...]
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = String(rest[authorityEnd...])
        if target.hasPrefix("?") { target = "/" + target }
        if target.isEmpty { target = "/" }
        guard !authority.contains("@") else { throw .credentials }

        var host = Substring(authority)
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .missingHost }
            host = authority[...close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .invalidPort }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        }
        guard !host.isEmpty, host != "[]" else { throw .missingHost }
        var port = scheme.defaultPort
        if let portText {
            guard (1...5).contains(portText.count), portText.allSatisfy({ $0.isASCII && $0.isNumber }),
                let value = Int(portText), (1...65535).contains(value)
            else { throw .invalidPort }
            port = value
        }
        self.scheme = scheme
        self.host = String(host)
        self.port = port
        self.target = target
        self.explicitPort = portText != nil
    }

    /// The Host header value.
    var hostHeader: String { explicitPort ? "\(host):\(port)" : host }

    /// The URL without its query, for messages and logs: a query often carries a token
    /// (a pre-signed S3 URL's signature), which must not reach an error message.
    public var redacted: String {
        "\(scheme.rawValue)://\(hostHeader)\(Self.redactingQuery(target))"
    }

    /// A URL or path with its query replaced by `?…` and its fragment dropped, cut to 200
    /// characters.
    static func redactingQuery(_ text: String) -> String {
        let end = text.firstIndex(where: { $0 == "?" || $0 == "#" }) ?? text.endIndex
        let kept = String(text[..<end].prefix(200))
        return end < text.endIndex && text[end] == "?" ? kept + "?…" : kept
    }
}
