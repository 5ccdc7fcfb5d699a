import Foundation
import SidecarState
import Testing

/// What every credential store promises (``CredentialStoring``), run against this host's
/// SQLite database and a real PostgreSQL alike.
@Suite("Credential store contract")
struct CredentialContractTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let secret = Array(#"{"password":"s3cret-passphrase"}"#.utf8)

    @Test("a credential reads back decrypted, only in its workspace", arguments: StateBackend.allCases)
    func roundTrip(_ backend: StateBackend) async throws {
        try await backend.withStores { stores in
            let key = CredentialKey.generate()
            let store = stores.makeCredentials(key)
            let added = try await store.add(
                workspace: "w1", label: "Gmail", host: "smtp.gmail.com", port: 587, username: "ana@example.com",
                payload: CredentialPayload(secret), id: "c1", now: t0)
            #expect(added.id == "c1" && added.host == "smtp.gmail.com" && added.rotated == nil)
            let stored = try await store.get(id: "c1", workspace: "w1")
            #expect(stored.payload == CredentialPayload(secret))
            #expect(stored.metadata == added)
            // Another workspace's id is a missing one.
            let missing = await #expect(throws: CredentialStoreError.self) { try await store.get(id: "c1", workspace: "w2") }
            #expect(missing?.code == .notFound)
            // Another host with the same key reads it; one with another key cannot.
            #expect(try await stores.makeCredentials(key).get(id: "c1", workspace: "w1").payload == CredentialPayload(secret))
            let wrongKey = await #expect(throws: CredentialStoreError.self) {
                try await stores.makeCredentials(.generate()).get(id: "c1", workspace: "w1")
            }
            guard case .sealedUnderAnotherKey(let storedKey, _) = wrongKey?.code else {
                Issue.record("another key must be named, got \(String(describing: wrongKey))")
                return
            }
            #expect(storedKey == key.id)
        }
    }

    @Test("ids are unique per workspace; list shows metadata, never secrets", arguments: StateBackend.allCases)
    func listAndDuplicates(_ backend: StateBackend) async throws {
        try await backend.withStores { stores in
            let store = stores.makeCredentials(.generate())
            try await store.add(
                workspace: "w1", label: "B", host: "h1", port: nil, username: nil, payload: CredentialPayload(secret), id: "c1",
                now: t0)
            try await store.add(
                workspace: "w1", label: "A", host: "h2", port: 465, username: "u", payload: CredentialPayload(secret), id: "c2",
                now: t0)
            try await store.add(
                workspace: "w2", label: "A", host: "h3", port: nil, username: nil, payload: CredentialPayload(secret), id: "c1",
                now: t0)
            let duplicate = await #expect(throws: CredentialStoreError.self) {
                try await store.add(
                    workspace: "w1", label: "again", host: "h", port: nil, username: nil, payload: CredentialPayload(secret),
                    id: "c1", now: t0)
            }
            #expect(duplicate?.code == .duplicateID)
            #expect(try await store.list(workspace: "w1").map(\.id) == ["c2", "c1"])
            #expect(try await store.list(workspace: nil).map(\.workspace) == ["w1", "w1", "w2"])
            #expect(try await store.list(workspace: "w1").first?.port == 465)
        }
    }

    @Test("rotate replaces the secret; remove deletes; token refreshes are listed", arguments: StateBackend.allCases)
    func rotateRemoveAndTokens(_ backend: StateBackend) async throws {
        try await backend.withStores { stores in
            let store = stores.makeCredentials(.generate())
            try await store.add(
                workspace: "w1", label: "L", host: "h", port: 587, username: "u", payload: CredentialPayload(secret), id: "c1",
                now: t0)
            let rotated = try await store.rotate(
                id: "c1", workspace: "w1", host: "h2", port: nil, username: "u2", payload: CredentialPayload(Array("new".utf8)),
                now: t0.addingTimeInterval(60))
            #expect(rotated.host == "h2" && rotated.port == nil && rotated.rotated == t0.addingTimeInterval(60))
            #expect(try await store.get(id: "c1", workspace: "w1").payload == CredentialPayload(Array("new".utf8)))
            let missing = await #expect(throws: CredentialStoreError.self) {
                try await store.rotate(
                    id: "nope", workspace: "w1", host: "h", port: nil, username: nil, payload: CredentialPayload([]), now: t0)
            }
            #expect(missing?.code == .notFound)

            try await store.recordTokenRefresh(
                id: "c1", workspace: "w1", expires: t0.addingTimeInterval(3600), failure: nil, now: t0)
            #expect(try await store.list(workspace: "w1").first?.token?.expires == t0.addingTimeInterval(3600))
            try await store.recordTokenRefresh(id: "c1", workspace: "w1", expires: nil, failure: "invalid_grant", now: t0)
            let token = try await store.list(workspace: "w1").first?.token
            #expect(token?.lastError == "invalid_grant" && token?.expires == t0.addingTimeInterval(3600))

            try await store.remove(id: "c1", workspace: "w1")
            #expect(try await store.list(workspace: "w1").isEmpty)
            let gone = await #expect(throws: CredentialStoreError.self) { try await store.remove(id: "c1", workspace: "w1") }
            #expect(gone?.code == .notFound)
        }
    }
}
