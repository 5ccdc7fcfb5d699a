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

    /// Starts an exchange; returns the AUTH command to send.
    static func start(mechanism: SMTPAuthMechanism, credentials: SMTPCredentials) -> (SMTPCommand, SMTPAuthExchange) {
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
        }
    }

    /// The line answering a 334 challenge, or nil when the mechanism has nothing more to say
    /// (a protocol error).
    mutating func answerChallenge() -> SMTPCommand? {
        guard !continuations.isEmpty else { return nil }
        return .authResponse(continuations.removeFirst())
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

    /// Picks the mechanism: the configured one, else XOAUTH2 for a token, else PLAIN, then
    /// LOGIN, among what the server offers. Nil when nothing fits.
    static func choose(credentials: SMTPCredentials, offered capabilities: SMTPCapabilities) -> SMTPAuthMechanism? {
        if let forced = credentials.mechanism { return forced }
        switch credentials.authenticator {
        case .oauth2Token:
            return capabilities.offers(.xoauth2) ? .xoauth2 : nil
        case .password:
            if capabilities.offers(.plain) { return .plain }
            if capabilities.offers(.login) { return .login }
            return nil
        }
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

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
