import Foundation
import NIOCore
import SidecarCore
import SidecarProtocol
import Testing

@Suite struct CredentialStatusTests {
    func decode(_ json: String) -> Result<Request, RequestDecodingFailure> {
        RequestDecoder().decode(Data(json.utf8))
    }

    @Test func paramsAreOptionalAndFilter() throws {
        #expect(try decode(#"{"id":1,"op":"credential_status"}"#).get().operation == .credentialStatus(.init()))
        #expect(try decode(#"{"id":1,"op":"credential_status","params":null}"#).get().operation == .credentialStatus(.init()))
        let both = try decode(#"{"id":1,"op":"credential_status","params":{"credential_id":"c1","workspace_id":"w1","x":1}}"#).get()
        #expect(both.operation == .credentialStatus(.init(credentialID: "c1", workspaceID: "w1")))
    }

    @Test(arguments: [
        (#"{"credential_id":5}"#, "params.credential_id"),
        (#"{"workspace_id":""}"#, "params.workspace_id"),
        (#"{"credential_id":"\#(String(repeating: "i", count: 257))"}"#, "params.credential_id"),
    ])
    func aFilterOfTheWrongShapeIsRefused(params: String, field: String) {
        guard case .failure(let failure) = decode(#"{"id":"c","op":"credential_status","params":\#(params)}"#) else {
            Issue.record("accepted")
            return
        }
        #expect(failure.error.code == .invalidParams)
        #expect(failure.error.field == field)
    }

    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (Int64(1_800_000_000_123), "2027-01-15T08:00:00.123Z"),
        (Int64(951_782_400_000), "2000-02-29T00:00:00.000Z"),
        (Int64(-1), "1969-12-31T23:59:59.999Z"),
        (Int64(253_402_300_799_999), "9999-12-31T23:59:59.999Z"),
    ])
    func timestampsAreRFC3339InUTC(ms: Int64, expected: String) {
        #expect(RFC3339Timestamp.string(millisecondsSince1970: ms) == expected)
    }

    @Test func timestampsAgreeWithFoundationsFormatter() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        var ms: Int64 = -2_000_000_000_000
        while ms < 4_000_000_000_000 {
            let date = Date(timeIntervalSince1970: Double(ms) / 1000)
            #expect(RFC3339Timestamp.string(millisecondsSince1970: ms) == formatter.string(from: date))
            ms += 7_777_777_777_777 / 97
        }
    }

    @Test func theResultWritesWhatTheSchemaNamesAndLeavesOutWhatIsAbsent() throws {
        let result = CredentialStatusResult(credentials: [
            .init(
                id: "c1", workspaceID: "w1", label: "Gmail", host: "smtp.gmail.com", port: 587, username: "ana@example.com",
                lastSuccessAt: "2027-01-15T08:00:00.123Z",
                lastError: .init(code: "auth_failed", at: "2027-01-15T08:00:01.000Z", message: "535"),
                quota: .init(daily: .init(used: 3, limit: 500, periodMs: 86_400_000, resetsAt: "2027-01-16T08:00:00.000Z")),
                pool: .init(pools: 1, open: 1, idle: 1), token: .init(expiresAt: "2027-01-15T09:00:00.000Z")),
            .init(id: "c2", workspaceID: "w1", label: "", host: "h", port: nil, username: nil),
        ])
        var writer = JSONWriter(buffer: ByteBuffer())
        result.writeJSON(to: &writer)
        let written = String(buffer: writer.buffer)
        let decoded = try JSONDecoder().decode(CredentialStatusResult.self, from: Data(written.utf8))
        #expect(decoded == result)
        #expect(written.contains(#""quota":{"daily":{"used":3,"limit":500,"period_ms":86400000,"resets_at":"2027-01-16T08:00:00.000Z"}}"#))
        #expect(written.contains(#"{"id":"c2","workspace_id":"w1","label":"","host":"h","quota":{},"pool":{"pools":0,"#))
    }
}
