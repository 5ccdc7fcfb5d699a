import Foundation
import Logging
import SidecarCore
import SidecarProtocol
import SidecarState
import Testing

@testable import SidecarMail

/// Stored credentials as the mail engine keeps them: the request's `CredentialParams`
/// sealed in the form earlier builds stored, read back in the request's terms.
@Suite struct StoredCredentialTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let password = "PW-canary-7f3a9c1e-hunter2"
    let token = "TOKEN-canary-0b8d44aa-ya29"

    var credential: CredentialParams {
        CredentialParams(
            host: "smtp.gmail.com", port: 587, security: .starttls, username: "ana@example.com", password: Secret(password),
            accessToken: Secret(token), auth: .auto,
            tls: .init(minVersion: .tls12, acceptUnverified: true, caPEM: "PEM", serverName: "smtp.gmail.com"),
            clientName: "flows.example", pipelining: false, chunking: false, maxMessagesPerConnection: 10)
    }

    /// The JSON an earlier build sealed for ``credential`` (its `CredentialSecret`, written
    /// with `JSONEncoder`, secrets revealed).
    var earlierJSON: String {
        #"{"host":"smtp.gmail.com","port":587,"security":"starttls","username":"ana@example.com","#
            + #""password":"\#(password)","access_token":"\#(token)","auth":"auto","#
            + #""tls":{"min_version":"1.2","accept_unverified":true,"ca_pem":"PEM","server_name":"smtp.gmail.com"},"#
            + #""client_name":"flows.example","pipelining":false,"chunking":false,"max_messages_per_connection":10}"#
    }

    @Test func aRecordAnEarlierBuildStoredStillOpens() async throws {
        let state = try TemporaryState()
        let store = CredentialStore(database: state.database, key: .generate())
        try store.add(
            workspace: "w1", label: "Gmail", host: "smtp.gmail.com", port: 587, username: "ana@example.com",
            payload: CredentialPayload(Array(earlierJSON.utf8)), id: "c1", now: t0)
        var expected = credential
        expected.id = "c1"
        #expect(try await store.credential(id: "c1", workspace: "w1") == expected)

        // The fewest fields, and values this build does not know (read as absent, as before).
        try store.add(
            workspace: "w1", label: "Odd", host: "h", port: nil, username: nil,
            payload: CredentialPayload(Array(#"{"host":"h","security":"ssl","auth":"cram-md5","tls":{"min_version":"1.1"}}"#.utf8)),
            id: "c2", now: t0)
        #expect(try await store.credential(id: "c2", workspace: "w1") == CredentialParams(id: "c2", host: "h", tls: .init()))
    }

    @Test func aStoredCredentialReadsBackAsItWasGivenWithItsRecordsID() async throws {
        let state = try TemporaryState()
        let store = CredentialStore(database: state.database, key: .generate())
        var given = credential
        given.id = "ignored"
        given.limits = .init(preset: "gmail", perMinute: 5, daily: 400)
        let metadata = try await store.add(workspace: "w1", label: "Gmail", credential: given, id: "c1", now: t0)
        #expect(metadata.host == "smtp.gmail.com" && metadata.port == 587 && metadata.username == "ana@example.com")
        // Its limits are kept: a send by credential_id has nowhere else to carry them.
        var expected = given
        expected.id = "c1"
        #expect(try await store.credential(id: "c1", workspace: "w1") == expected)
        #expect(try await store.credential(id: "c1", workspace: "w1").limits == .init(preset: "gmail", perMinute: 5, daily: 400))

        var rotated = credential
        rotated.password = Secret("new-password")
        rotated.host = "smtp.example.com"
        let after = try await store.rotate(id: "c1", workspace: "w1", credential: rotated, now: t0.addingTimeInterval(60))
        #expect(after.host == "smtp.example.com" && after.rotated == t0.addingTimeInterval(60))
        #expect(try await store.credential(id: "c1", workspace: "w1").password == Secret("new-password"))
        #expect(try await store.credential(id: "c1", workspace: "w1").limits == nil)
    }

    @Test(arguments: [
        nil, CredentialParams.Limits(preset: "ses-sandbox"), CredentialParams.Limits(perMinute: 60),
        CredentialParams.Limits(daily: 2), CredentialParams.Limits(preset: "gmail", perMinute: 1, daily: 10_000_000),
    ])
    func limitsRoundTripMemberByMember(_ limits: CredentialParams.Limits?) throws {
        var given = credential
        given.limits = limits
        let opened = try CredentialParams.stored(try given.storedPayload(), id: "c1").params
        #expect(opened.limits == limits)
        var expected = given
        expected.id = "c1"
        #expect(opened == expected)
    }

    @Test func limitsAreSealedInTheWiresShapeBesideTheFormEarlierBuildsRead() throws {
        var given = credential
        given.limits = .init(preset: "gmail", daily: 2)
        let written = try #require(
            try JSONSerialization.jsonObject(with: Data(try given.storedPayload().bytes)) as? [String: Any])
        let limits = try #require(written["limits"] as? [String: Any])
        #expect(limits.count == 2 && limits["preset"] as? String == "gmail" && limits["daily"] as? Int == 2)
        var rest = written
        rest["limits"] = nil
        let earlier = try #require(try JSONSerialization.jsonObject(with: Data(earlierJSON.utf8)) as? NSDictionary)
        #expect(NSDictionary(dictionary: rest) == earlier)
    }

    @Test func aRecordWithoutLimitsOpensWithNoneAndUnknownMembersAreIgnored() throws {
        #expect(try CredentialParams.stored(CredentialPayload(Array(earlierJSON.utf8)), id: "c1").params.limits == nil)
        #expect(try CredentialParams.stored(CredentialPayload(Array(#"{"host":"h","limits":null}"#.utf8)), id: "c1").params.limits == nil)
        // Members this build does not know are skipped, at the top and inside `limits`: so
        // a build from before stored limits opens a record written with them, as this one
        // opens a later build's.
        let later = #"{"host":"h","limits":{"daily":5,"hourly":3},"future":{"x":[1,2]},"also":true}"#
        let opened = try CredentialParams.stored(CredentialPayload(Array(later.utf8)), id: "c1").params
        #expect(opened == CredentialParams(id: "c1", host: "h", limits: .init(daily: 5)))
    }

    @Test func whatIsSealedIsTheFormEarlierBuildsRead() throws {
        let sealed = try credential.storedPayload()
        let written = try #require(try JSONSerialization.jsonObject(with: Data(sealed.bytes)) as? NSDictionary)
        let earlier = try #require(try JSONSerialization.jsonObject(with: Data(earlierJSON.utf8)) as? NSDictionary)
        #expect(written == earlier)
        #expect(!"\(sealed) \(String(reflecting: sealed))".contains(password))
    }

    @Test func aSendByCredentialIDIsHeldToTheStoredLimitsAndItsStatusShowsThem() async throws {
        let state = try TemporaryState()
        let store = CredentialStore(database: state.database, key: .generate())
        var stored = try #require(SendFixtures.params().credential)
        stored.limits = .init(daily: 1)
        try await store.add(workspace: "ws-orchestration", label: "", credential: stored, id: "capped", now: Date())
        let transport = FakeMailTransport([.sent])
        let operations = MailOperations(
            settings: MailSettings(), transport: transport,
            policy: MailPolicy(destinations: SendFixtures.loopback, rateLimiter: state.rateLimiter, credentials: store))
        var params = SendFixtures.params()
        params.credential = nil
        params.credentialID = "capped"

        #expect(await operations.send(params).result?.outcome == .sent)
        let over = await operations.send(params)
        #expect(over.error?.code == .rateLimited && (over.error?.retryAfterMs ?? 0) > 0)
        #expect(transport.sends.count == 1, "the send over the stored limit never reached the transport")

        let status = await operations.credentialStatus(
            CredentialStatusParams(credentialID: "capped"), pools: [:], logger: Logger(label: "test"))
        guard case .success(let writable) = status, let result = writable as? CredentialStatusResult else {
            Issue.record("not a credential_status result: \(status)")
            return
        }
        let daily = try #require(result.credentials.first?.quota.daily)
        #expect(daily.used == 1 && daily.limit == 1 && daily.periodMs == 86_400_000)
    }

    @Test func aStoredCredentialIsUsedOnlyInItsWorkspace() async throws {
        let state = try TemporaryState()
        let store = CredentialStore(database: state.database, key: .generate())
        try await store.add(workspace: "w1", label: "Gmail", credential: credential, id: "c1", now: t0)
        let operations = MailOperations(
            settings: MailSettings(), transport: FakeMailTransport(),
            policy: MailPolicy(destinations: SendFixtures.loopback, credentials: store))
        #expect(try await operations.credential(inline: nil, storedID: "c1", workspace: "w1").params.password == Secret(password))
        await #expect(throws: SidecarError(
            code: .credentialNotFound, message: "No stored credential \"c1\" in this workspace.", field: "params.credential_id"
        )) {
            try await operations.credential(inline: nil, storedID: "c1", workspace: "w2")
        }
    }

    @Test func theStoresRefusalsReachTheWireWorded() async throws {
        let state = try TemporaryState()
        let store = CredentialStore(database: state.database, key: .generate())
        try await store.add(workspace: "w1", label: "Gmail", credential: credential, id: "c1", now: t0)
        let duplicate = await #expect(throws: CredentialStoreError.self) {
            try await store.add(workspace: "w1", label: "Again", credential: credential, id: "c1", now: t0)
        }
        #expect(duplicate.flatMap { SidecarError(state: $0) } == SidecarError(
            code: .invalidParams, message: "A credential with this id already exists in the workspace.", field: "params.id"))

        let other = CredentialStore(database: state.database, key: .generate())
        let operations = MailOperations(
            settings: MailSettings(), transport: FakeMailTransport(),
            policy: MailPolicy(destinations: SendFixtures.loopback, credentials: other))
        let error = await #expect(throws: SidecarError.self) { try await operations.credential(inline: nil, storedID: "c1", workspace: "w1") }
        #expect(error?.code == .internalError)
        #expect(error?.message.hasPrefix("The stored credential was encrypted under another key") == true)
        #expect(error?.message.contains(password) == false)
    }
}
