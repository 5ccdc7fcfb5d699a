import Crypto
import FoundationEssentials
import Synchronization

/// SMTP credentials stored per workspace, encrypted at rest with AES-256-GCM.
///
/// Each record's ``CredentialPayload`` (opaque here: the mail engine writes the credential's
/// fields into it) is sealed with a fresh random 96-bit nonce under the ``CredentialKey``,
/// with the record's workspace and id as authenticated data: a ciphertext copied into
/// another row or workspace, or altered by a single bit, fails to open. Only the non-secret
/// ``CredentialMetadata`` (label, host, port, username, times) is stored in the clear, so
/// ``list(workspace:)`` needs no decryption; whoever stores a payload gives those too.
///
/// A credential of another workspace is indistinguishable from a missing one: both throw
/// the same ``CredentialStoreError/Code/notFound``. The store words nothing for people: its
/// failures are ``CredentialStoreError``s and the database's ``SQLiteError``s.
public final class CredentialStore: Sendable {
    private let database: StateDatabase
    private let key: Mutex<CredentialKey>

    public init(database: StateDatabase, key: CredentialKey) {
        self.database = database
        self.key = Mutex(key)
    }

    /// The ``CredentialKey/id`` of the key in use.
    public var keyID: String { key.withLock { $0.id } }

    /// Stores a new credential: `payload` sealed, `host`, `port` and `username` in the clear
    /// for ``list(workspace:)``. `id` defaults to a random UUID; an id already used in the
    /// workspace is refused (``CredentialStoreError/Code/duplicateID``).
    @discardableResult
    public func add(
        workspace: String, label: String, host: String, port: Int?, username: String?, payload: CredentialPayload,
        id: String? = nil, now: Date
    ) throws -> CredentialMetadata {
        let id = id ?? UUID().uuidString.lowercased()
        let key = key.withLock { $0 }
        let sealed = try Self.seal(payload, workspace: workspace, id: id, key: key)
        let nowMs = now.millisecondsSince1970
        try database.withTransaction { connection in
            let existing = try connection.queryFirst(
                "SELECT 1 FROM credential WHERE workspace = ? AND id = ?", [.text(workspace), .text(id)]
            )
            guard existing == nil else {
                throw CredentialStoreError(.duplicateID)
            }
            try connection.run(
                """
                INSERT INTO credential (workspace, id, label, host, port, username, sealed, key_id, created_ms, rotated_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
                """,
                [
                    .text(workspace), .text(id), .text(label), .text(host), .optionalInt(port),
                    .optionalText(username), .blob(sealed), .text(key.id), .integer(nowMs),
                ]
            )
        }
        return CredentialMetadata(
            id: id, workspace: workspace, label: label, host: host, port: port, username: username,
            created: Date(millisecondsSince1970: nowMs), rotated: nil
        )
    }

    /// The credential `id` of `workspace`, decrypted. Throws ``CredentialStoreError/Code/notFound``
    /// when it does not exist or belongs to another workspace, and ``CredentialStoreError/Code/openFailed``
    /// or ``CredentialStoreError/Code/sealedUnderAnotherKey(stored:current:)`` when it cannot be
    /// decrypted (altered, moved, or sealed under another key).
    public func get(id: String, workspace: String) throws -> StoredCredential {
        let row = try database.withConnection { connection in
            try connection.queryFirst(
                """
                SELECT label, host, port, username, created_ms, rotated_ms, sealed, key_id
                FROM credential WHERE workspace = ? AND id = ?
                """,
                [.text(workspace), .text(id)]
            )
        }
        guard let row else { throw Self.notFound }
        let metadata = try Self.metadata(id: id, workspace: workspace, row: row)
        let payload = try Self.open(try row.blob(6), keyID: try row.text(7), workspace: workspace, id: id, key: key.withLock { $0 })
        return StoredCredential(metadata: metadata, payload: payload)
    }

    /// Metadata of every credential, or of one workspace's, ordered by workspace and label.
    /// Decrypts nothing and returns no secret.
    public func list(workspace: String? = nil) throws -> [CredentialMetadata] {
        try database.withConnection { connection in
            let select = """
                SELECT c.id, c.workspace, c.label, c.host, c.port, c.username, c.created_ms, c.rotated_ms,
                       t.expires_ms, t.refreshed_ms, t.failed_ms, t.last_error, t.id IS NOT NULL
                FROM credential c LEFT JOIN credential_token t ON t.workspace = c.workspace AND t.id = c.id
                """
            let rows =
                if let workspace {
                    try connection.query("\(select) WHERE c.workspace = ? ORDER BY c.label, c.id", [.text(workspace)])
                } else {
                    try connection.query("\(select) ORDER BY c.workspace, c.label, c.id")
                }
            func date(_ value: Int?) -> Date? { value.map { Date(millisecondsSince1970: Int64($0)) } }
            return try rows.map { row in
                var metadata = CredentialMetadata(
                    id: try row.text(0), workspace: try row.text(1), label: try row.text(2), host: try row.text(3),
                    port: try row.optionalInt(4), username: try row.optionalText(5),
                    created: Date(millisecondsSince1970: try row.int64(6)),
                    rotated: date(try row.optionalInt(7))
                )
                if try row.int64(12) != 0 {
                    metadata.token = CredentialTokenStatus(
                        expires: date(try row.optionalInt(8)), refreshed: date(try row.optionalInt(9)),
                        failed: date(try row.optionalInt(10)), lastError: try row.optionalText(11))
                }
                return metadata
            }
        }
    }

    /// Deletes the credential. Throws ``CredentialStoreError/Code/notFound`` as ``get(id:workspace:)`` does.
    public func remove(id: String, workspace: String) throws {
        let deleted = try database.withTransaction { connection in
            try connection.run("DELETE FROM credential_token WHERE workspace = ? AND id = ?", [.text(workspace), .text(id)])
            return try connection.run("DELETE FROM credential WHERE workspace = ? AND id = ?", [.text(workspace), .text(id)])
        }
        guard deleted == 1 else { throw Self.notFound }
    }

    /// Records how an access-token refresh of the OAuth credential `id` went: the new
    /// token's expiry, or the failure's reason (which keeps the previous expiry).
    public func recordTokenRefresh(id: String, workspace: String, expires: Date?, failure: String?, now: Date) throws {
        let nowMs = now.millisecondsSince1970
        try database.withTransaction(synchronous: .normal) { connection in
            if let failure {
                try connection.run(
                    """
                    INSERT INTO credential_token (workspace, id, failed_ms, last_error) VALUES (?, ?, ?, ?)
                    ON CONFLICT (workspace, id) DO UPDATE SET failed_ms = excluded.failed_ms, last_error = excluded.last_error
                    """,
                    [.text(workspace), .text(id), .integer(nowMs), .text(failure)])
            } else {
                try connection.run(
                    """
                    INSERT INTO credential_token (workspace, id, expires_ms, refreshed_ms) VALUES (?, ?, ?, ?)
                    ON CONFLICT (workspace, id) DO UPDATE SET expires_ms = excluded.expires_ms,
                        refreshed_ms = excluded.refreshed_ms, failed_ms = NULL, last_error = NULL
                    """,
                    [.text(workspace), .text(id), .optionalInt(expires.map { Int($0.millisecondsSince1970) }), .integer(nowMs)])
            }
        }
    }

    /// Replaces the credential's payload (a new password or token; host, port and username
    /// may change too) and records the time. Label and creation time stay.
    @discardableResult
    public func rotate(
        id: String, workspace: String, host: String, port: Int?, username: String?, payload: CredentialPayload, now: Date
    ) throws -> CredentialMetadata {
        let key = key.withLock { $0 }
        let sealed = try Self.seal(payload, workspace: workspace, id: id, key: key)
        let nowMs = now.millisecondsSince1970
        let updated = try database.withTransaction { connection in
            try connection.run(
                """
                UPDATE credential SET host = ?, port = ?, username = ?, sealed = ?, key_id = ?, rotated_ms = ?
                WHERE workspace = ? AND id = ?
                """,
                [
                    .text(host), .optionalInt(port), .optionalText(username), .blob(sealed), .text(key.id),
                    .integer(nowMs), .text(workspace), .text(id),
                ]
            )
        }
        guard updated == 1 else { throw Self.notFound }
        return try get(id: id, workspace: workspace).metadata
    }

    /// Re-encrypts every record under `newKey` in one transaction (all or nothing), then
    /// uses `newKey` from now on. Returns how many records were re-encrypted. Fails, changing
    /// nothing, if any record cannot be opened with the current key.
    @discardableResult
    public func rekey(to newKey: CredentialKey) throws -> Int {
        try key.withLock { key in
            let oldKey = key
            let count = try database.withTransaction { connection -> Int in
                let rows = try connection.query("SELECT workspace, id, sealed, key_id FROM credential")
                for row in rows {
                    let workspace = try row.text(0)
                    let id = try row.text(1)
                    let payload = try Self.open(try row.blob(2), keyID: try row.text(3), workspace: workspace, id: id, key: oldKey)
                    let sealed = try Self.seal(payload, workspace: workspace, id: id, key: newKey)
                    try connection.run(
                        "UPDATE credential SET sealed = ?, key_id = ? WHERE workspace = ? AND id = ?",
                        [.blob(sealed), .text(newKey.id), .text(workspace), .text(id)]
                    )
                }
                return rows.count
            }
            key = newKey
            return count
        }
    }

    package static let notFound = CredentialStoreError(.notFound)

    /// "smtp-sidecar credential v1", then the workspace and the id, each length-prefixed.
    package static func authenticatedData(workspace: String, id: String) -> [UInt8] {
        var data = Array("smtp-sidecar credential v1".utf8)
        for part in [workspace, id] {
            let bytes = Array(part.utf8)
            withUnsafeBytes(of: UInt64(bytes.count).bigEndian) { data.append(contentsOf: $0) }
            data.append(contentsOf: bytes)
        }
        return data
    }

    package static func seal(_ payload: CredentialPayload, workspace: String, id: String, key: CredentialKey) throws(CredentialStoreError)
        -> [UInt8]
    {
        let box: AES.GCM.SealedBox
        do {
            box = try AES.GCM.seal(
                payload.bytes, using: key.symmetricKey, nonce: AES.GCM.Nonce(),
                authenticating: authenticatedData(workspace: workspace, id: id)
            )
        } catch {
            throw CredentialStoreError(.sealFailed, underlying: error)
        }
        // Always there with the standard 12-byte nonce.
        guard let combined = box.combined else { throw CredentialStoreError(.sealFailed) }
        return Array(combined)
    }

    package static func open(_ sealed: [UInt8], keyID: String, workspace: String, id: String, key: CredentialKey) throws(CredentialStoreError)
        -> CredentialPayload
    {
        guard keyID == key.id else { throw CredentialStoreError(.sealedUnderAnotherKey(stored: keyID, current: key.id)) }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed)
            let plaintext = try AES.GCM.open(box, using: key.symmetricKey, authenticating: authenticatedData(workspace: workspace, id: id))
            return CredentialPayload(Array(plaintext))
        } catch {
            throw CredentialStoreError(.openFailed, underlying: error)
        }
    }

    private static func metadata(id: String, workspace: String, row: SQLiteRow) throws -> CredentialMetadata {
        CredentialMetadata(
            id: id, workspace: workspace, label: try row.text(0), host: try row.text(1), port: try row.optionalInt(2),
            username: try row.optionalText(3), created: Date(millisecondsSince1970: try row.int64(4)),
            rotated: try row.optionalInt(5).map { Date(millisecondsSince1970: Int64($0)) }
        )
    }
}
