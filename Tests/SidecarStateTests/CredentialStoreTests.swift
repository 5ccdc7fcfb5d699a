import Foundation
import SidecarCore
import Testing

@testable import SidecarState

@Suite("CredentialStore")
struct CredentialStoreTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let password = "PW-canary-7f3a9c1e-hunter2"
    let token = "TOKEN-canary-0b8d44aa-ya29"

    private var secret: TestCredential {
        TestCredential(host: "smtp.gmail.com", port: 587, username: "ana@example.com", password: password, token: token)
    }

    @Test("add then get returns the secret; the secret never prints")
    func roundTrip() throws {
        let directory = try TemporaryStateDirectory()
        let store = CredentialStore(database: try directory.open(), key: .generate())
        let metadata = try store.add(workspace: "w1", label: "Gmail", secret: secret, id: "c1", now: t0)
        #expect(metadata == CredentialMetadata(
            id: "c1", workspace: "w1", label: "Gmail", host: "smtp.gmail.com", port: 587, username: "ana@example.com",
            created: t0, rotated: nil
        ))
        let stored = try store.get(id: "c1", workspace: "w1")
        #expect(stored.payload == secret.payload)
        #expect(String(decoding: stored.payload.bytes, as: UTF8.self).contains(password))
        let printed = "\(stored) \(String(reflecting: stored))"
        #expect(!printed.contains(password))
        #expect(!printed.contains(token))
        var dumped = ""
        dump(stored, to: &dumped)
        #expect(!dumped.contains(password))
    }

    @Test("a token refresh's outcome is listed, never a token, and goes with its credential")
    func tokenStatus() throws {
        let directory = try TemporaryStateDirectory()
        let store = CredentialStore(database: try directory.open(), key: .generate())
        try store.add(workspace: "w1", label: "Gmail", secret: secret, id: "c1", now: t0)
        try store.add(workspace: "w1", label: "Other", secret: secret, id: "c2", now: t0)
        #expect(try store.list(workspace: "w1").map(\.token) == [nil, nil])
        let expires = t0.addingTimeInterval(3600)
        try store.recordTokenRefresh(id: "c1", workspace: "w1", expires: expires, failure: nil, now: t0)
        #expect(try store.list(workspace: "w1").first?.token == CredentialTokenStatus(expires: expires, refreshed: t0))
        let later = t0.addingTimeInterval(60)
        try store.recordTokenRefresh(id: "c1", workspace: "w1", expires: nil, failure: "invalid_grant", now: later)
        #expect(try store.list(workspace: "w1").first?.token
            == CredentialTokenStatus(expires: expires, refreshed: t0, failed: later, lastError: "invalid_grant"))
        let again = t0.addingTimeInterval(120)
        try store.recordTokenRefresh(id: "c1", workspace: "w1", expires: again, failure: nil, now: later)
        #expect(try store.list(workspace: "w1").first?.token == CredentialTokenStatus(expires: again, refreshed: later))
        try store.remove(id: "c1", workspace: "w1")
        try store.add(workspace: "w1", label: "Gmail", secret: secret, id: "c1", now: t0)
        #expect(try store.list(workspace: "w1").first?.token == nil, "a removed credential's token status went with it")
    }

    @Test("another workspace gets exactly the missing-credential error")
    func otherWorkspace() throws {
        let directory = try TemporaryStateDirectory()
        let store = CredentialStore(database: try directory.open(), key: .generate())
        try store.add(workspace: "w1", label: "Gmail", secret: secret, id: "c1", now: t0)
        let foreign = #expect(throws: CredentialStoreError.self) { try store.get(id: "c1", workspace: "w2") }
        let missing = #expect(throws: CredentialStoreError.self) { try store.get(id: "nope", workspace: "w1") }
        #expect(foreign?.code == .notFound)
        #expect(foreign?.code == missing?.code)
        #expect(foreign?.underlying == nil && missing?.underlying == nil)
        #expect(throws: CredentialStoreError.self) { try store.remove(id: "c1", workspace: "w2") }
        #expect(throws: CredentialStoreError.self) { try store.rotate(id: "c1", workspace: "w2", secret: secret, now: t0) }
        #expect(try store.get(id: "c1", workspace: "w1").payload == secret.payload)
    }

    @Test("a ciphertext moved to another workspace's row fails to decrypt")
    func movedCiphertext() throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        let store = CredentialStore(database: database, key: .generate())
        try store.add(workspace: "w1", label: "Victim", secret: secret, id: "c1", now: t0)
        var decoy = secret
        decoy.password = "attacker"
        try store.add(workspace: "w2", label: "Attacker", secret: decoy, id: "c1", now: t0)
        try store.add(workspace: "w1", label: "Other", secret: decoy, id: "c2", now: t0)
        try database.withTransaction { connection in
            let sealed = try #require(try connection.queryFirst("SELECT sealed FROM credential WHERE workspace = 'w1' AND id = 'c1'")).blob(0)
            try connection.run("UPDATE credential SET sealed = ? WHERE workspace = 'w2' AND id = 'c1'", [.blob(sealed)])
            try connection.run("UPDATE credential SET sealed = ? WHERE workspace = 'w1' AND id = 'c2'", [.blob(sealed)])
        }
        for (workspace, id) in [("w2", "c1"), ("w1", "c2")] {
            let error = #expect(throws: CredentialStoreError.self) { try store.get(id: id, workspace: workspace) }
            #expect(error?.code == .openFailed)
        }
        #expect(try store.get(id: "c1", workspace: "w1").payload == secret.payload)
    }

    @Test("a tampered ciphertext fails to decrypt", arguments: [0, 12, 40, -1])
    func tampered(offset: Int) throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        let store = CredentialStore(database: database, key: .generate())
        try store.add(workspace: "w1", label: "Gmail", secret: secret, id: "c1", now: t0)
        try database.withTransaction { connection in
            var sealed = try #require(try connection.queryFirst("SELECT sealed FROM credential")).blob(0)
            // Nonce (0..<12), ciphertext, and the tag (last byte).
            let index = offset >= 0 ? offset : sealed.count + offset
            sealed[index] ^= 0x01
            try connection.run("UPDATE credential SET sealed = ?", [.blob(sealed)])
        }
        let error = #expect(throws: CredentialStoreError.self) { try store.get(id: "c1", workspace: "w1") }
        #expect(error?.code == .openFailed)
        #expect(error?.description.contains(password) == false)
    }

    @Test("a different key cannot read the records")
    func wrongKey() throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        try CredentialStore(database: database, key: .generate()).add(workspace: "w1", label: "Gmail", secret: secret, id: "c1", now: t0)
        let other = CredentialKey.generate()
        let error = #expect(throws: CredentialStoreError.self) {
            try CredentialStore(database: database, key: other).get(id: "c1", workspace: "w1")
        }
        guard case .sealedUnderAnotherKey(_, let current) = error?.code else {
            Issue.record("expected sealedUnderAnotherKey, got \(String(describing: error))")
            return
        }
        #expect(current == other.id)
    }

    @Test("list returns metadata only, filtered by workspace")
    func list() throws {
        let directory = try TemporaryStateDirectory()
        let store = CredentialStore(database: try directory.open(), key: .generate())
        try store.add(workspace: "w1", label: "B", secret: secret, id: "c2", now: t0)
        try store.add(workspace: "w1", label: "A", secret: secret, id: "c1", now: t0)
        try store.add(workspace: "w2", label: "C", secret: secret, id: "c1", now: t0)
        #expect(try store.list(workspace: "w1").map(\.label) == ["A", "B"])
        #expect(try store.list().map(\.workspace) == ["w1", "w1", "w2"])
        #expect(try store.list(workspace: "w3").isEmpty)
        let json = String(decoding: try JSONEncoder().encode(try store.list()), as: UTF8.self)
        #expect(!json.contains(password))
        #expect(!json.contains(token))
        #expect(json.contains("ana@example.com"))
    }

    @Test("duplicate ids in one workspace are refused; the same id in two workspaces is fine")
    func duplicateID() throws {
        let directory = try TemporaryStateDirectory()
        let store = CredentialStore(database: try directory.open(), key: .generate())
        try store.add(workspace: "w1", label: "A", secret: secret, id: "c1", now: t0)
        let error = #expect(throws: CredentialStoreError.self) {
            try store.add(workspace: "w1", label: "B", secret: secret, id: "c1", now: t0)
        }
        #expect(error?.code == .duplicateID)
        try store.add(workspace: "w2", label: "B", secret: secret, id: "c1", now: t0)
        let generated = try store.add(workspace: "w1", label: "C", secret: secret, now: t0)
        #expect(generated.id.count == 36)
    }

    @Test("rotate replaces the secret and records when; remove deletes")
    func rotateAndRemove() throws {
        let directory = try TemporaryStateDirectory()
        let store = CredentialStore(database: try directory.open(), key: .generate())
        try store.add(workspace: "w1", label: "Gmail", secret: secret, id: "c1", now: t0)
        var newSecret = secret
        newSecret.password = "new-password"
        let metadata = try store.rotate(id: "c1", workspace: "w1", secret: newSecret, now: t0.addingTimeInterval(60))
        #expect(metadata.rotated == t0.addingTimeInterval(60))
        #expect(metadata.created == t0)
        #expect(metadata.label == "Gmail")
        #expect(try store.get(id: "c1", workspace: "w1").payload == newSecret.payload)
        try store.remove(id: "c1", workspace: "w1")
        let error = #expect(throws: CredentialStoreError.self) { try store.get(id: "c1", workspace: "w1") }
        #expect(error?.code == .notFound)
    }

    @Test("rekey re-encrypts every record under the new key")
    func rekey() throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        let oldKey = CredentialKey.generate()
        let newKey = CredentialKey.generate()
        let store = CredentialStore(database: database, key: oldKey)
        try store.add(workspace: "w1", label: "A", secret: secret, id: "c1", now: t0)
        try store.add(workspace: "w2", label: "B", secret: secret, id: "c2", now: t0)
        #expect(try store.rekey(to: newKey) == 2)
        #expect(store.keyID == newKey.id)
        #expect(try store.get(id: "c2", workspace: "w2").payload == secret.payload)
        #expect(try CredentialStore(database: database, key: newKey).get(id: "c1", workspace: "w1").payload == secret.payload)
        #expect(throws: CredentialStoreError.self) { try CredentialStore(database: database, key: oldKey).get(id: "c1", workspace: "w1") }
        // Rekeying with the wrong current key changes nothing.
        #expect(throws: CredentialStoreError.self) { try CredentialStore(database: database, key: oldKey).rekey(to: .generate()) }
        #expect(try store.get(id: "c1", workspace: "w1").payload == secret.payload)
    }

    @Test("credentials survive closing and reopening the database")
    func survivesReopen() throws {
        let directory = try TemporaryStateDirectory()
        let key = CredentialKey.generate()
        do {
            let database = try directory.open()
            try CredentialStore(database: database, key: key).add(workspace: "w1", label: "Gmail", secret: secret, id: "c1", now: t0)
            database.close()
        }
        #expect(try CredentialStore(database: try directory.open(), key: key).get(id: "c1", workspace: "w1").payload == secret.payload)
    }

    @Test("the database file, WAL and shared memory never contain a plaintext secret")
    func noPlaintextOnDisk() throws {
        let directory = try TemporaryStateDirectory()
        let database = try directory.open()
        let store = CredentialStore(database: database, key: .generate())
        let label = "LABEL-canary-5e6f"
        try store.add(workspace: "w1", label: label, secret: secret, id: "c1", now: t0)
        var rotated = secret
        rotated.password = password + "-rotated"
        try store.rotate(id: "c1", workspace: "w1", secret: rotated, now: t0)
        try store.add(workspace: "w1", label: label, secret: secret, id: "c2", now: t0)
        try store.remove(id: "c2", workspace: "w1")

        func files() -> [Data] {
            ["", "-wal", "-shm"].compactMap { FileManager.default.contents(atPath: directory.databasePath + $0) }
        }
        func contains(_ needle: String, _ haystacks: [Data]) -> Bool {
            haystacks.contains { $0.range(of: Data(needle.utf8)) != nil }
        }
        // While open: the WAL holds the recent writes.
        let open = files()
        #expect(open.count == 3)
        #expect(contains(label, open), "the canary label (not secret) must be found, or the search proves nothing")
        #expect(!contains(password, open))
        #expect(!contains(token, open))
        // After close: checkpointed into the main file.
        database.close()
        let closed = files()
        #expect(contains(label, closed))
        #expect(!contains(password, closed))
        #expect(!contains(token, closed))
    }
}

@Suite("CredentialKey")
struct CredentialKeyTests {
    @Test("generateKeyFile writes 32 bytes with mode 0600 and never overwrites")
    func generate() throws {
        let directory = try TemporaryStateDirectory()
        let path = "\(directory.path)/key"
        let key = try CredentialKey.generateKeyFile(at: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect((attributes[.size] as? Int) == 32)
        #expect(try CredentialKey.load(fromFile: path).id == key.id)
        #expect(throws: CredentialKeyError(.notCreated(path: path, errno: EEXIST))) { try CredentialKey.generateKeyFile(at: path) }
        #expect(try CredentialKey.load(fromFile: path).id == key.id)
        #expect(!"\(key)".isEmpty)
    }

    @Test("a hex key file is accepted; wrong sizes and open permissions are refused")
    func formats() throws {
        let directory = try TemporaryStateDirectory()
        let hex = String(repeating: "0123456789abcdef", count: 4) + "\n"
        let path = "\(directory.path)/hex"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(hex.utf8), attributes: [.posixPermissions: 0o400]))
        let expected = try CredentialKey(bytes: Array(repeating: [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef], count: 4).flatMap { $0 })
        #expect(try CredentialKey.load(fromFile: path).id == expected.id)

        let short = "\(directory.path)/short"
        #expect(FileManager.default.createFile(atPath: short, contents: Data(repeating: 7, count: 16), attributes: [.posixPermissions: 0o600]))
        #expect(throws: CredentialKeyError(.malformed(source: short))) { try CredentialKey.load(fromFile: short) }

        let open = "\(directory.path)/open"
        #expect(FileManager.default.createFile(atPath: open, contents: Data(repeating: 7, count: 32), attributes: [.posixPermissions: 0o644]))
        #expect(throws: CredentialKeyError(.accessibleToOthers(path: open))) { try CredentialKey.load(fromFile: open) }
    }

    @Test("the systemd credential is read from CREDENTIALS_DIRECTORY")
    func systemd() throws {
        let directory = try TemporaryStateDirectory()
        let key = try CredentialKey.generateKeyFile(at: "\(directory.path)/\(CredentialKey.systemdCredentialName)")
        #expect(try CredentialKey.fromSystemdCredentials(environment: ["CREDENTIALS_DIRECTORY": directory.path]).id == key.id)
        #expect(throws: CredentialKeyError(.noCredentialsDirectory(name: CredentialKey.systemdCredentialName))) {
            try CredentialKey.fromSystemdCredentials(environment: [:])
        }
    }

    @Test("the key never prints")
    func redacted() throws {
        let key = try CredentialKey(bytes: Array(repeating: 0x41, count: 32))
        var dumped = ""
        dump(key, to: &dumped)
        let text = "\(key) \(String(reflecting: key)) \(dumped)"
        #expect(!text.contains(String(repeating: "A", count: 8)))
        #expect(!text.contains("65, 65"))
        #expect(text.contains(key.id))
    }
}

/// A credential as the store takes it: the fields it lists, and a payload it seals without
/// reading (JSON holding the canary secrets, as the mail engine writes it).
private struct TestCredential {
    var host: String
    var port: Int?
    var username: String?
    var password: String
    var token: String

    var payload: CredentialPayload {
        CredentialPayload(Array(#"{"host":"\#(host)","password":"\#(password)","access_token":"\#(token)"}"#.utf8))
    }
}

extension CredentialStore {
    @discardableResult
    fileprivate func add(workspace: String, label: String, secret: TestCredential, id: String? = nil, now: Date) throws
        -> CredentialMetadata
    {
        try add(
            workspace: workspace, label: label, host: secret.host, port: secret.port, username: secret.username,
            payload: secret.payload, id: id, now: now)
    }

    @discardableResult
    fileprivate func rotate(id: String, workspace: String, secret: TestCredential, now: Date) throws -> CredentialMetadata {
        try rotate(
            id: id, workspace: workspace, host: secret.host, port: secret.port, username: secret.username,
            payload: secret.payload, now: now)
    }
}
