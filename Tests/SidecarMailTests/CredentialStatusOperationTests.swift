import Foundation
import Logging
import NIOCore
import SidecarCore
import SidecarProtocol
import SidecarState
import Testing

@testable import SidecarMail

/// `credential_status` over a real credential store and rate store: what each stored
/// credential's entry is made of, the filters, and no secret in the answer.
@Suite struct CredentialStatusOperationTests {
    let password = "PW-canary-3d1f-status"

    func credential(_ host: String) -> CredentialParams {
        CredentialParams(host: host, port: 587, username: "ana@example.com", password: Secret(password))
    }

    func result(_ outcome: Response.Outcome) throws -> CredentialStatusResult {
        guard case .success(let writable) = outcome, let result = writable as? CredentialStatusResult else {
            throw StatusFailure("not a credential_status result: \(outcome)")
        }
        return result
    }

    @Test func eachCredentialHasItsOutcomesQuotaMarkPoolsAndTokenAndNoSecret() async throws {
        let state = try TemporaryState()
        let store = CredentialStore(database: state.database, key: .generate())
        let now = Date()
        try await store.add(workspace: "w1", label: "Gmail", credential: credential("smtp.gmail.com"), id: "c1", now: now)
        try await store.add(workspace: "w1", label: "M365", credential: credential("smtp.office365.com"), id: "c2", now: now)
        try await store.add(workspace: "w2", label: "Other", credential: credential("smtp.example.com"), id: "c1", now: now)
        let expires = Date(timeIntervalSince1970: 1_900_000_000)
        // A refresh that worked, then one that failed: the token's expiry stays, the error shows.
        try store.recordTokenRefresh(id: "c2", workspace: "w1", expires: expires, failure: nil, now: now)
        try store.recordTokenRefresh(id: "c2", workspace: "w1", expires: nil, failure: "invalid_grant", now: now)
        let spentUntil = Date(timeIntervalSince1970: 1_950_000_000)
        try await state.rateLimiter.markExhausted(key: "w1/c1", QuotaExhaustion(until: spentUntil, reason: "454 4.7.0 quota"))
        let operations = MailOperations(
            settings: MailSettings(), transport: FakeMailTransport(),
            policy: MailPolicy(rateLimiter: state.rateLimiter, credentials: store))
        operations.health.succeeded(workspace: "w1", id: "c1")
        operations.health.failed(
            workspace: "w2", id: "c1", error: SidecarError(code: .authFailed, message: "535 5.7.8 Authentication failed"))
        let pools = [TransportRoute(workspaceID: "w1", credentialID: "c1"): CredentialStatusResult.Pool(pools: 1, open: 1, idle: 1)]

        let answer = await operations.credentialStatus(.init(), pools: pools, logger: Logger(label: "test"))
        let all = try result(answer).credentials
        #expect(all.map { "\($0.workspaceID)/\($0.id)" } == ["w1/c1", "w1/c2", "w2/c1"])
        let (gmail, m365, other) = (all[0], all[1], all[2])
        #expect(gmail.label == "Gmail" && gmail.host == "smtp.gmail.com" && gmail.port == 587 && gmail.username == "ana@example.com")
        #expect(gmail.lastSuccessAt != nil && gmail.lastError == nil)
        #expect(gmail.quota == .init(exhaustedUntil: RFC3339Timestamp.string(millisecondsSince1970: 1_950_000_000_000)))
        #expect(gmail.pool == .init(pools: 1, open: 1, idle: 1))
        #expect(gmail.token == nil)
        #expect(m365.lastSuccessAt == nil && m365.lastError == nil && m365.quota == .init() && m365.pool == .init())
        #expect(m365.token == .init(expiresAt: "2030-03-17T17:46:40.000Z", lastRefreshError: "invalid_grant"))
        #expect(other.lastError?.code == "auth_failed" && other.lastError?.message == "535 5.7.8 Authentication failed")
        #expect(other.quota.exhaustedUntil == nil && other.pool == .init())

        guard case .success(let writable) = answer else { throw StatusFailure("failed") }
        var writer = JSONWriter(buffer: ByteBuffer())
        writable.writeJSON(to: &writer)
        #expect(!String(buffer: writer.buffer).contains(password))
    }

    @Test func theFiltersAndAnUnknownId() async throws {
        let state = try TemporaryState()
        let store = CredentialStore(database: state.database, key: .generate())
        try await store.add(workspace: "w1", label: "", credential: credential("h"), id: "c1", now: Date())
        try await store.add(workspace: "w2", label: "", credential: credential("h"), id: "c1", now: Date())
        try await store.add(workspace: "w2", label: "", credential: credential("h"), id: "c2", now: Date())
        let operations = MailOperations(
            settings: MailSettings(), transport: FakeMailTransport(), policy: MailPolicy(credentials: store))
        let logger = Logger(label: "test")
        func ids(_ params: CredentialStatusParams) async throws -> [String] {
            try result(await operations.credentialStatus(params, pools: [:], logger: logger)).credentials
                .map { "\($0.workspaceID)/\($0.id)" }
        }
        #expect(try await ids(.init(credentialID: "c1")) == ["w1/c1", "w2/c1"])
        #expect(try await ids(.init(workspaceID: "w2")) == ["w2/c1", "w2/c2"])
        #expect(try await ids(.init(credentialID: "c2", workspaceID: "w2")) == ["w2/c2"])
        #expect(try await ids(.init(workspaceID: "w3")) == [])
        for params in [CredentialStatusParams(credentialID: "c2", workspaceID: "w1"), .init(credentialID: "nope")] {
            guard case .failure(let error, _) = await operations.credentialStatus(params, pools: [:], logger: logger) else {
                throw StatusFailure("\(params) answered")
            }
            #expect(error.code == .credentialNotFound && error.field == "params.credential_id")
        }
        // Without a store: nothing to list, and no id to find.
        let storeless = MailOperations(settings: MailSettings(), transport: FakeMailTransport())
        #expect(try result(await storeless.credentialStatus(.init(), pools: [:], logger: logger)).credentials.isEmpty)
    }
}

private struct StatusFailure: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
