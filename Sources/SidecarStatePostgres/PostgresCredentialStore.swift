import FoundationEssentials
import PostgresNIO
import SidecarCore
import SidecarState
import Synchronization

/// Stored credentials shared by a fleet, in PostgreSQL: added once, usable from every host.
/// Each payload is sealed exactly as on one host (`CredentialStore`: AES-256-GCM under the
/// ``CredentialKey``, a fresh nonce, the workspace and id authenticated), under the key the
/// hosts share, so the database, its backups and its replicas never hold a secret in clear,
/// and a row copied to another workspace or id does not open.
public final class PostgresCredentialStore: CredentialStoring {
    let state: PostgresState
    private let key: CredentialKey

    public init(state: PostgresState, key: CredentialKey) {
        self.state = state
        self.key = key
    }

    private var tables: PostgresTables { state.tables }

    @discardableResult
    public func add(
        workspace: String, label: String, host: String, port: Int?, username: String?, payload: CredentialPayload,
        id: String?, now: Date
    ) async throws -> CredentialMetadata {
        let id = id ?? UUID().uuidString.lowercased()
        let key = key
        let sealed = try CredentialStore.seal(payload, workspace: workspace, id: id, key: key)
        let nowMs = now.millisecondsSince1970
        let table = tables.credential
        let port32 = port.map { Int32(clamping: $0) }
        let inserted = try await state.operation {
            try await self.state.client.query(
                """
                INSERT INTO \(unescaped: table) (workspace, id, label, host, port, username, sealed, key_id, created_ms, rotated_ms)
                VALUES (\(workspace), \(id), \(label), \(host), \(port32), \(username), \(ByteBuffer(bytes: sealed)), \(key.id), \(nowMs), NULL)
                ON CONFLICT (workspace, id) DO NOTHING RETURNING 1
                """, logger: self.state.logger
            ).collect().count == 1
        }
        guard inserted else { throw CredentialStoreError(.duplicateID) }
        return CredentialMetadata(
            id: id, workspace: workspace, label: label, host: host, port: port, username: username,
            created: Date(millisecondsSince1970: nowMs), rotated: nil)
    }

    public func get(id: String, workspace: String) async throws -> StoredCredential {
        let table = tables.credential
        let row = try await state.operation {
            try await self.state.fastClient.query(
                """
                SELECT label, host, port, username, created_ms, rotated_ms, sealed, key_id
                FROM \(unescaped: table) WHERE workspace = \(workspace) AND id = \(id)
                """, logger: self.state.logger
            ).collect().first.map { row in
                try row.decode((String, String, Int32?, String?, Int64, Int64?, ByteBuffer, String).self)
            }
        }
        guard let row else { throw CredentialStore.notFound }
        let metadata = CredentialMetadata(
            id: id, workspace: workspace, label: row.0, host: row.1, port: row.2.map(Int.init), username: row.3,
            created: Date(millisecondsSince1970: row.4), rotated: row.5.map { Date(millisecondsSince1970: $0) })
        let payload = try CredentialStore.open(
            Array(buffer: row.6), keyID: row.7, workspace: workspace, id: id, key: key)
        return StoredCredential(metadata: metadata, payload: payload)
    }

    public func list(workspace: String?) async throws -> [CredentialMetadata] {
        let tables = tables
        return try await state.operation {
            let select = """
                SELECT c.id, c.workspace, c.label, c.host, c.port, c.username, c.created_ms, c.rotated_ms,
                       t.expires_ms, t.refreshed_ms, t.failed_ms, t.last_error, t.id IS NOT NULL
                FROM \(tables.credential) c LEFT JOIN \(tables.credentialToken) t ON t.workspace = c.workspace AND t.id = c.id
                """
            let query: PostgresQuery =
                if let workspace {
                    "\(unescaped: select) WHERE c.workspace = \(workspace) ORDER BY c.label, c.id"
                } else {
                    "\(unescaped: select) ORDER BY c.workspace, c.label, c.id"
                }
            func date(_ value: Int64?) -> Date? { value.map { Date(millisecondsSince1970: $0) } }
            var entries: [CredentialMetadata] = []
            for try await row in try await self.state.fastClient.query(query, logger: self.state.logger) {
                let (id, workspace, label, host, port, username, created, rotated) =
                    try row.decode((String, String, String, String, Int32?, String?, Int64, Int64?).self)
                var metadata = CredentialMetadata(
                    id: id, workspace: workspace, label: label, host: host, port: port.map(Int.init), username: username,
                    created: Date(millisecondsSince1970: created), rotated: date(rotated))
                let token = row.makeRandomAccess()
                if try token[12].decode(Bool.self) {
                    metadata.token = CredentialTokenStatus(
                        expires: date(try token[8].decode(Int64?.self)), refreshed: date(try token[9].decode(Int64?.self)),
                        failed: date(try token[10].decode(Int64?.self)), lastError: try token[11].decode(String?.self))
                }
                entries.append(metadata)
            }
            return entries
        }
    }

    public func remove(id: String, workspace: String) async throws {
        let tables = tables
        let deleted = try await state.operation {
            try await self.state.client.withTransaction(logger: self.state.logger) { connection in
                try await connection.query(
                    "DELETE FROM \(unescaped: tables.credentialToken) WHERE workspace = \(workspace) AND id = \(id)",
                    logger: self.state.logger)
                return try await connection.query(
                    "DELETE FROM \(unescaped: tables.credential) WHERE workspace = \(workspace) AND id = \(id) RETURNING 1",
                    logger: self.state.logger
                ).collect().count
            }
        }
        guard deleted == 1 else { throw CredentialStore.notFound }
    }

    @discardableResult
    public func rotate(
        id: String, workspace: String, host: String, port: Int?, username: String?, payload: CredentialPayload, now: Date
    ) async throws -> CredentialMetadata {
        let key = key
        let sealed = try CredentialStore.seal(payload, workspace: workspace, id: id, key: key)
        let nowMs = now.millisecondsSince1970
        let table = tables.credential
        let port32 = port.map { Int32(clamping: $0) }
        let updated = try await state.operation {
            try await self.state.client.query(
                """
                UPDATE \(unescaped: table) SET host = \(host), port = \(port32), username = \(username),
                    sealed = \(ByteBuffer(bytes: sealed)), key_id = \(key.id), rotated_ms = \(nowMs)
                WHERE workspace = \(workspace) AND id = \(id) RETURNING 1
                """, logger: self.state.logger
            ).collect().count
        }
        guard updated == 1 else { throw CredentialStore.notFound }
        return try await get(id: id, workspace: workspace).metadata
    }

    public func recordTokenRefresh(id: String, workspace: String, expires: Date?, failure: String?, now: Date) async throws {
        let table = tables.credentialToken
        let nowMs = now.millisecondsSince1970
        let expiresMs = expires?.millisecondsSince1970
        try await state.operation {
            let query: PostgresQuery =
                if let failure {
                    """
                    INSERT INTO \(unescaped: table) (workspace, id, failed_ms, last_error) VALUES (\(workspace), \(id), \(nowMs), \(failure))
                    ON CONFLICT (workspace, id) DO UPDATE SET failed_ms = excluded.failed_ms, last_error = excluded.last_error
                    """
                } else {
                    """
                    INSERT INTO \(unescaped: table) (workspace, id, expires_ms, refreshed_ms) VALUES (\(workspace), \(id), \(expiresMs), \(nowMs))
                    ON CONFLICT (workspace, id) DO UPDATE SET expires_ms = excluded.expires_ms,
                        refreshed_ms = excluded.refreshed_ms, failed_ms = NULL, last_error = NULL
                    """
                }
            try await self.state.client.query(query, logger: self.state.logger)
            return ()
        }
    }
}
