import Crypto
import SidecarCore

/// A keyed fingerprint of a secret (an SMTP password or token), for use inside pool keys.
///
/// The daemon keys pools by workspace × credential × secret, so that rotating a password
/// never hands out a connection authenticated with the old one. The secret itself must
/// not sit in a key (keys end up in dictionaries, debug output and crash logs), so the key
/// holds this value instead: HMAC-SHA256 of the secret under a random per-process key.
/// Without the process key the fingerprint cannot be checked against guesses offline,
/// and two processes give different fingerprints for the same secret.
///
/// `description` shows only a short prefix, for debugging; it is not a stable identifier.
public struct SecretFingerprint: Hashable, Sendable, CustomStringConvertible {
    /// The 32 bytes of HMAC-SHA256(processKey, secret).
    public let bytes: [UInt8]

    /// The fingerprint of a ``Secret`` under `key`.
    public init(_ secret: Secret, key: SecretFingerprint.Key) {
        self = secret.withRevealedValue { SecretFingerprint(secret: $0, key: key) }
    }

    /// The fingerprint of `secret` (its UTF-8 bytes) under `key`.
    public init(secret: some StringProtocol, key: SecretFingerprint.Key) {
        self.init(secretBytes: Array(secret.utf8), key: key)
    }

    /// The fingerprint of `secretBytes` under `key`.
    public init(secretBytes: [UInt8], key: SecretFingerprint.Key) {
        var authenticator = key.initialAuthenticator
        authenticator.update(data: secretBytes)
        self.bytes = Array(authenticator.finalize())
    }

    public var description: String {
        "SecretFingerprint(" + Hex.string(bytes.prefix(4)) + "…)"
    }

    /// The HMAC key. Make one per process with ``random()`` and share it; its bytes are
    /// never printed.
    public struct Key: Sendable, CustomStringConvertible {
        /// An authenticator keyed with the key's bytes and fed nothing yet, made once and copied
        /// for each fingerprint: keying HMAC hashes two key blocks, and every send
        /// fingerprints its secret. (swift-crypto's hash state is copy-on-write, so the
        /// copies never share it.)
        let initialAuthenticator: HMAC<SHA256>

        /// A key of 32 bytes from the system's secure random generator.
        public static func random() -> Key {
            var generator = SystemRandomNumberGenerator()
            return Key(bytes: (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        }

        /// A fixed key, for tests and test vectors.
        public init(bytes: [UInt8]) {
            self.initialAuthenticator = HMAC<SHA256>(key: SymmetricKey(data: bytes))
        }

        public var description: String { "SecretFingerprint.Key(redacted)" }
    }
}
