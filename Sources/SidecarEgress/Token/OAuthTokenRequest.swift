import SidecarCore

/// One request to an OAuth 2.0 token endpoint (RFC 6749 §6 refresh, §4.4 client
/// credentials). The client secret and refresh token are ``Secret``s: they go into the
/// request body and nowhere else.
public struct OAuthTokenRequest: Sendable, Hashable, CustomStringConvertible {
    public enum Grant: Sendable, Hashable {
        /// Delegated access: a refresh token the user's consent produced.
        case refreshToken(Secret)
        /// App-only access (Microsoft's client credentials flow).
        case clientCredentials
    }

    /// The token endpoint, `https://` only.
    public var url: String
    public var grant: Grant
    public var clientID: String
    /// Absent for a public client (then only `client_id` is sent).
    public var clientSecret: Secret?
    /// Space-separated scopes; empty sends none.
    public var scope: String

    public init(url: String, grant: Grant, clientID: String, clientSecret: Secret?, scope: String) {
        self.url = url
        self.grant = grant
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.scope = scope
    }

    /// The `application/x-www-form-urlencoded` body (RFC 6749 Appendix B).
    var formBody: [UInt8] {
        var fields: [(String, String)] = []
        switch grant {
        case .refreshToken(let token):
            fields.append(("grant_type", "refresh_token"))
            token.withRevealedValue { fields.append(("refresh_token", $0)) }
        case .clientCredentials:
            fields.append(("grant_type", "client_credentials"))
        }
        fields.append(("client_id", clientID))
        clientSecret?.withRevealedValue { fields.append(("client_secret", $0)) }
        if !scope.isEmpty { fields.append(("scope", scope)) }
        var body: [UInt8] = []
        for (index, (name, value)) in fields.enumerated() {
            if index > 0 { body.append(UInt8(ascii: "&")) }
            body += Self.formEncoded(name)
            body.append(UInt8(ascii: "="))
            body += Self.formEncoded(value)
        }
        return body
    }

    /// The secrets of the request, to scrub from anything the endpoint sends back.
    var secrets: [Secret] {
        var secrets: [Secret] = []
        if case .refreshToken(let token) = grant { secrets.append(token) }
        if let clientSecret { secrets.append(clientSecret) }
        return secrets
    }

    /// Percent-encodes all but RFC 3986's unreserved characters.
    static func formEncoded(_ text: String) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return out
    }

    public var description: String {
        let grant =
            switch grant {
            case .refreshToken: "refresh_token"
            case .clientCredentials: "client_credentials"
            }
        return "OAuthTokenRequest(\(AttachmentURL.redactingQuery(url)), \(grant), client \(clientID), \(Secret.redacted))"
    }
}
