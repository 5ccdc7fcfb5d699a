import Crypto
import FoundationEssentials
import SidecarCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The 256-bit AES key that encrypts stored credentials. Never printed: its description
/// is redacted, and only ``id`` (a fingerprint) may be shown.
///
/// Sources, in the order the daemon should try them:
/// - the systemd credential `smtp-sidecar.key` (`LoadCredentialEncrypted=smtp-sidecar.key:…`
///   in the unit; systemd decrypts it into `$CREDENTIALS_DIRECTORY`), ``fromSystemdCredentials(name:environment:)``;
/// - a key file, ``load(fromFile:)``, made once with ``generateKeyFile(at:)``.
///
/// A key file holds the 32 key bytes raw, or as 64 hex digits (a trailing newline is fine).
public struct CredentialKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The credential name the unit file loads.
    public static let systemdCredentialName = "smtp-sidecar.key"

    /// The key bytes. Kept as an array, not a `SymmetricKey`, because swift-crypto 3 does
    /// not mark `SymmetricKey` `Sendable`; ``symmetricKey`` wraps them for each use.
    private let bytes: [UInt8]
    /// A fingerprint stored with each record, to tell "wrong key" from "tampered": the first
    /// 8 bytes of HMAC-SHA256(key, "smtp-sidecar credential key id v1"), in hex. Not secret.
    public let id: String

    public init(bytes: some Collection<UInt8>) throws(CredentialKeyError) {
        guard bytes.count == 32 else { throw CredentialKeyError(.wrongLength(byteCount: bytes.count)) }
        self.bytes = Array(bytes)
        let key = SymmetricKey(data: self.bytes)
        let mac = HMAC<SHA256>.authenticationCode(for: Array("smtp-sidecar credential key id v1".utf8), using: key)
        self.id = Hex.string(Array(mac).prefix(8))
    }

    /// A new random key.
    public static func generate() -> CredentialKey {
        let key = SymmetricKey(size: .bits256)
        // Cannot fail: the size is right.
        return try! CredentialKey(bytes: key.withUnsafeBytes { Array($0) })
    }

    var symmetricKey: SymmetricKey { SymmetricKey(data: bytes) }

    public var description: String { "CredentialKey(id: \(id))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["id": id], displayStyle: .struct) }

    /// Reads a key file. Refuses a file that group or others may read or write.
    public static func load(fromFile path: String) throws(CredentialKeyError) -> CredentialKey {
        var info = stat()
        guard stat(path, &info) == 0 else { throw CredentialKeyError(.unreadable(path: path, errno: errno)) }
        guard info.st_mode & 0o077 == 0 else { throw CredentialKeyError(.accessibleToOthers(path: path)) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CredentialKeyError(.unreadable(path: path, errno: nil))
        }
        return try parse(Array(data), source: path)
    }

    /// Reads the systemd credential `name` from `$CREDENTIALS_DIRECTORY`.
    public static func fromSystemdCredentials(
        name: String = systemdCredentialName, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(CredentialKeyError) -> CredentialKey {
        guard let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty else {
            throw CredentialKeyError(.noCredentialsDirectory(name: name))
        }
        return try load(fromFile: "\(directory)/\(name)")
    }

    /// Creates a key file with a new random key, mode 0600, raw bytes. Never overwrites an
    /// existing file.
    @discardableResult
    public static func generateKeyFile(at path: String) throws(CredentialKeyError) -> CredentialKey {
        let key = generate()
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw CredentialKeyError(.notCreated(path: path, errno: errno)) }
        defer { close(descriptor) }
        let written = key.bytes.withUnsafeBytes { buffer in write(descriptor, buffer.baseAddress, buffer.count) }
        guard written == 32, fsync(descriptor) == 0 else {
            unlink(path)
            throw CredentialKeyError(.notWritten(path: path))
        }
        return key
    }

    static func parse(_ bytes: [UInt8], source: String) throws(CredentialKeyError) -> CredentialKey {
        if bytes.count == 32 { return try CredentialKey(bytes: bytes) }
        let text = bytes.filter { !($0 == 0x0a || $0 == 0x0d || $0 == 0x20) }
        if text.count == 64, let decoded = decodeHex(text) { return try CredentialKey(bytes: decoded) }
        throw CredentialKeyError(.malformed(source: source))
    }

    private static func decodeHex(_ text: [UInt8]) -> [UInt8]? {
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var bytes: [UInt8] = []
        var index = 0
        while index + 1 < text.count {
            guard let high = value(text[index]), let low = value(text[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}
