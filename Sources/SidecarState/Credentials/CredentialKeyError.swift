/// Why a ``CredentialKey`` could not be made, read or written: a problem of the daemon's
/// configuration, not of a request. It carries paths and `errno`s but never key bytes; the
/// mail engine words it for people (`invalid_configuration`).
public struct CredentialKeyError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// The key is not 32 bytes long (it has `byteCount`).
        case wrongLength(byteCount: Int)
        /// The key file could not be examined (`stat` failed with `errno`) or read (`errno` nil).
        case unreadable(path: String, errno: Int32?)
        /// The key file may be read or written by its group or others.
        case accessibleToOthers(path: String)
        /// The key file holds neither 32 raw bytes nor 64 hex digits.
        case malformed(source: String)
        /// `CREDENTIALS_DIRECTORY` is not set, so the systemd credential `name` cannot be found.
        case noCredentialsDirectory(name: String)
        /// A new key file could not be created (`open` failed with `errno`; an existing file
        /// is never overwritten).
        case notCreated(path: String, errno: Int32)
        /// A new key file could not be written in full and synced; it was removed.
        case notWritten(path: String)
    }

    public let code: Code

    public init(_ code: Code) {
        self.code = code
    }

    public var description: String { "CredentialKeyError.\(code)" }
}
