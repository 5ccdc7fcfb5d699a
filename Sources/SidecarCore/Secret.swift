/// A secret string (a password, an OAuth access token, an encryption key) that never
/// reveals itself by accident.
///
/// Its `description`, `debugDescription`, reflection (`dump`, `print` of a containing
/// struct) and JSON *encoding* all render ``Secret/redacted``. JSON *decoding* reads the
/// plain string, because that is how a client hands a secret to the sidecar. The value is
/// reachable only through ``withRevealedValue(_:)`` or ``revealedValue``, so every use is
/// visible in review.
public struct Secret: Sendable, Hashable, Codable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// What a secret renders as, everywhere.
    public static let redacted = "<redacted>"

    private let value: String

    public init(_ value: String) {
        self.value = value
    }

    /// The secret's value. Call only where the value is put on the wire to its rightful
    /// recipient (an SMTP AUTH command, a key derivation).
    public var revealedValue: String { value }

    public func withRevealedValue<Result>(_ body: (String) throws -> Result) rethrows -> Result {
        try body(value)
    }

    public var isEmpty: Bool { value.isEmpty }

    public var description: String { Self.redacted }
    public var debugDescription: String { Self.redacted }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

    /// Equality in time independent of where the values first differ.
    public static func == (lhs: Secret, rhs: Secret) -> Bool {
        let left = Array(lhs.value.utf8)
        let right = Array(rhs.value.utf8)
        var difference = UInt8(truncatingIfNeeded: left.count ^ right.count)
        for index in 0..<max(left.count, right.count) {
            let l = index < left.count ? left[index] : 0
            let r = index < right.count ? right[index] : 0
            difference |= l ^ r
        }
        return difference == 0
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(value)
    }

    public init(from decoder: any Decoder) throws {
        self.value = try decoder.singleValueContainer().decode(String.self)
    }

    /// Set to `true` in an encoder's `userInfo` only where the encoded bytes go to the
    /// secret's rightful recipient: a client sending a request to the sidecar.
    public static let revealWhenEncoding = CodingUserInfoKey(rawValue: "smtp_sidecar.reveal_secrets")!

    /// Encodes ``redacted``, never the value, so a secret sent back in a response or written
    /// to a log as JSON stays secret, unless the encoder's `userInfo` holds `true` under
    /// ``revealWhenEncoding``.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if encoder.userInfo[Self.revealWhenEncoding] as? Bool == true {
            try container.encode(value)
        } else {
            try container.encode(Self.redacted)
        }
    }
}
