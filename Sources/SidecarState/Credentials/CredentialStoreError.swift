/// Why the ``CredentialStore`` refused or failed, for whoever uses it to word (the mail
/// engine words it for the wire). A failure of the database itself is thrown as the
/// ``SQLiteError`` it is. Nothing here ever holds a secret: ``underlying`` is the
/// cryptography's own error, which names no key or plaintext.
public struct CredentialStoreError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// No credential with this id in this workspace. A credential of another workspace is
        /// indistinguishable from a missing one.
        case notFound
        /// ``CredentialStore/add(workspace:label:host:port:username:payload:id:now:)`` was given an id
        /// already used in the workspace.
        case duplicateID
        /// The payload could not be made or sealed.
        case sealFailed
        /// The record was sealed under another key: its key id is `stored`, the key in use
        /// has `current` (fingerprints, not secret).
        case sealedUnderAnotherKey(stored: String, current: String)
        /// The record does not open under its key (it was altered, or moved from another
        /// record or workspace), or its payload cannot be read.
        case openFailed
    }

    public let code: Code
    /// What failed below, when something did (the cryptography's error).
    public let underlying: (any Error & Sendable)?

    public init(_ code: Code, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.underlying = underlying
    }

    public var description: String {
        guard let underlying else { return "CredentialStoreError.\(code)" }
        return "CredentialStoreError.\(code) (\(underlying))"
    }
}
