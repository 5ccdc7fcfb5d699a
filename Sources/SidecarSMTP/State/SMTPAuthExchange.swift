import SidecarCore

/// One AUTH exchange (RFC 4954): the first command and the continuation lines still to
/// send for each 334 challenge. Every payload stays a ``Secret``.
struct SMTPAuthExchange: Sendable, Hashable {
    let mechanism: SMTPAuthMechanism
    /// The answers to the next 334 challenges, in order (already base64).
    private(set) var continuations: [Secret]
    /// Every sensitive string of the exchange (the password or token, each payload), so
    /// a server reply that echoes one can be scrubbed before it is logged or reported.
    private var sensitive: [Secret] = []
    /// For the OAuth mechanisms: the `status` of the server's error challenge (the 334 with
    /// a base64 JSON error before its 535), e.g. `invalid_token` or `401`.
    private(set) var oauthErrorStatus: String?

    /// Starts an exchange with the server at `host`:`port` (OAUTHBEARER names them); returns
    /// the AUTH command to send.
    static func start(
        mechanism: SMTPAuthMechanism, credentials: SMTPCredentials, host: String, port: Int
    ) -> (SMTPCommand, SMTPAuthExchange) {
        let secret: Secret
        switch credentials.authenticator {
        case .password(let password): secret = password
        case .oauth2Token(let token): secret = token
        }
        let username = Array(credentials.username.utf8)
        let secretBase64 = secret.withRevealedValue { Secret(base64(Array($0.utf8))) }
        switch mechanism {
        case .plain:
            // RFC 4616: authzid NUL authcid NUL passwd, authzid empty.
            let payload = secret.withRevealedValue { Secret(base64([0] + username + [0] + Array($0.utf8))) }
            let exchange = SMTPAuthExchange(mechanism: .plain, continuations: [], sensitive: [secret, secretBase64, payload])
            return (.auth(.plain, initialResponse: payload), exchange)
        case .login:
            let user = Secret(base64(username))
            let password = secret.withRevealedValue { Secret(base64(Array($0.utf8))) }
            let exchange = SMTPAuthExchange(mechanism: .login, continuations: [user, password], sensitive: [secret, password])
            return (.auth(.login, initialResponse: nil), exchange)
        case .xoauth2:
            // "user=" user ^A "auth=Bearer " token ^A ^A. On failure the server sends a 334
            // with a base64 JSON error and expects an empty line before its 5xx.
            let payload = secret.withRevealedValue {
                Secret(base64(Array("user=".utf8) + username + [1] + Array("auth=Bearer ".utf8) + Array($0.utf8) + [1, 1]))
            }
            let exchange = SMTPAuthExchange(mechanism: .xoauth2, continuations: [Secret("")], sensitive: [secret, secretBase64, payload])
            return (.auth(.xoauth2, initialResponse: payload), exchange)
        case .oauthbearer:
            // RFC 7628 §3.1: the GS2 header "n,a=" user ",", then ^A-separated host, port and
            // "auth=Bearer " token, ending ^A ^A. On failure the server sends a 334 with a
            // base64 JSON error (§3.2.2) and expects a lone ^A (§3.2.3) before its 5xx.
            let header = Array("n,a=".utf8) + gs2Escaped(username) + Array(",".utf8) + [1]
            let server = Array("host=\(host)".utf8) + [1] + Array("port=\(port)".utf8) + [1]
            let payload = secret.withRevealedValue {
                Secret(base64(header + server + Array("auth=Bearer ".utf8) + Array($0.utf8) + [1, 1]))
            }
            let exchange = SMTPAuthExchange(
                mechanism: .oauthbearer, continuations: [Secret(base64([1]))], sensitive: [secret, secretBase64, payload])
            return (.auth(.oauthbearer, initialResponse: payload), exchange)
        }
    }

    /// The line answering a 334 challenge, or nil when the mechanism has nothing more to say
    /// (a protocol error). For XOAUTH2 and OAUTHBEARER a challenge after the initial response
    /// is the server's error: its status is kept for the failure's message.
    mutating func answerChallenge(_ challenge: SMTPResponse) -> SMTPCommand? {
        guard !continuations.isEmpty else { return nil }
        switch mechanism {
        case .xoauth2, .oauthbearer:
            oauthErrorStatus = Self.oauthStatus(challenge: challenge.lines.first ?? "")
        case .plain, .login:
            break
        }
        return .authResponse(continuations.removeFirst())
    }

    /// The `status` member of an OAuth error challenge (base64 of a JSON object), reduced to
    /// letters, digits, `_`, `-` and `.` (at most 40): it is shown to the user, and a server
    /// controls it.
    static func oauthStatus(challenge: String) -> String? {
        let trimmed = challenge.utf8.filter { $0 != UInt8(ascii: " ") }
        guard let bytes = base64Decoded(String(decoding: trimmed, as: UTF8.self)) else { return nil }
        let key = Array("\"status\"".utf8)
        guard let start = bytes.indices.first(where: { bytes[$0...].starts(with: key) }) else { return nil }
        var rest = bytes[(start + key.count)...].drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: ":") }
        guard rest.first == UInt8(ascii: "\"") else { return nil }
        rest = rest.dropFirst()
        let value = rest.prefix { $0 != UInt8(ascii: "\"") }
        let kept = value.filter { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || Array("_-.".utf8).contains(byte)
        }
        guard !kept.isEmpty else { return nil }
        return String(decoding: kept.prefix(40), as: UTF8.self)
    }

    /// RFC 5801 §4 saslname: "=" and "," are escaped as "=3D" and "=2C".
    static func gs2Escaped(_ name: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(name.count)
        for byte in name {
            switch byte {
            case UInt8(ascii: "="): out += Array("=3D".utf8)
            case UInt8(ascii: ","): out += Array("=2C".utf8)
            default: out.append(byte)
            }
        }
        return out
    }

    /// `reply` with every sensitive string of the exchange replaced by `<redacted>`.
    ///
    /// Matching is on UTF-8 bytes, never on `Character`s: a secret that starts with a
    /// combining mark (U+0301) merges with the character before it into one grapheme, so
    /// a `String` search would not find it in an echo like `failed for \u{301}pw`.
    /// UTF-8 is self-synchronising, so a byte match of valid UTF-8 in valid UTF-8 always
    /// starts and ends on scalar boundaries.
    func scrub(_ reply: SMTPResponse) -> SMTPResponse {
        var scrubbed = reply
        for secret in sensitive where !secret.isEmpty {
            scrubbed.lines = scrubbed.lines.map { line in
                secret.withRevealedValue { Self.replacingBytes(of: $0, in: line, with: Secret.redacted) }
            }
        }
        return scrubbed
    }

    /// `text` with every occurrence of `needle`'s UTF-8 bytes replaced by `replacement`.
    static func replacingBytes(of needle: String, in text: String, with replacement: String) -> String {
        let needle = Array(needle.utf8)
        let haystack = Array(text.utf8)
        guard !needle.isEmpty, haystack.count >= needle.count else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(haystack.count)
        var index = 0
        var replaced = false
        while index < haystack.count {
            if haystack[index] == needle[0], index + needle.count <= haystack.count,
                haystack[index..<index + needle.count].elementsEqual(needle)
            {
                out.append(contentsOf: replacement.utf8)
                index += needle.count
                replaced = true
            } else {
                out.append(haystack[index])
                index += 1
            }
        }
        return replaced ? String(decoding: out, as: UTF8.self) : text
    }

    /// Picks the mechanism: the configured one, else for a token OAUTHBEARER (the standard),
    /// then XOAUTH2, and for a password PLAIN, then LOGIN, among what the server offers. Nil
    /// when nothing fits.
    static func choose(credentials: SMTPCredentials, offered capabilities: SMTPCapabilities) -> SMTPAuthMechanism? {
        if let forced = credentials.mechanism { return forced }
        switch credentials.authenticator {
        case .oauth2Token:
            if capabilities.offers(.oauthbearer) { return .oauthbearer }
            return capabilities.offers(.xoauth2) ? .xoauth2 : nil
        case .password:
            if capabilities.offers(.plain) { return .plain }
            if capabilities.offers(.login) { return .login }
            return nil
        }
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Decodes base64 (RFC 4648 §4, padding optional); nil when `text` is not base64.
    static func base64Decoded(_ text: String) -> [UInt8]? {
        var values: [UInt8] = []
        values.reserveCapacity(text.utf8.count)
        for byte in text.utf8 where byte != UInt8(ascii: "=") {
            guard let value = alphabet.firstIndex(of: byte) else { return nil }
            values.append(UInt8(value))
        }
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 3 / 4)
        var index = 0
        while index + 1 < values.count {
            out.append(values[index] << 2 | values[index + 1] >> 4)
            if index + 2 < values.count { out.append(values[index + 1] << 4 | values[index + 2] >> 2) }
            if index + 3 < values.count { out.append(values[index + 2] << 6 | values[index + 3]) }
            index += 4
        }
        return out
    }

    /// Base64 without line breaks (RFC 4648 §4).
    static func base64(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let b0 = bytes[index]
            let b1 = index + 1 < bytes.count ? bytes[index + 1] : 0
            let b2 = index + 2 < bytes.count ? bytes[index + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(index + 1 < bytes.count ? alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(index + 2 < bytes.count ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
