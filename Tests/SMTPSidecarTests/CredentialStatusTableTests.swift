import SidecarProtocol
import Testing

@testable import smtp_sidecar

@Suite struct CredentialStatusTableTests {
    @Test func aLineACredentialWithWhatIsKnownAndDashesForTheRest() {
        let result = CredentialStatusResult(credentials: [
            .init(
                id: "c1", workspaceID: "w1", label: "Gmail", host: "smtp.gmail.com", port: 587, username: "ana@example.com",
                lastSuccessAt: "2027-01-15T08:00:00.123Z", lastError: .init(code: "auth_failed", at: "2027-01-15T08:00:01.000Z"),
                quota: .init(
                    rate: .init(used: 1, limit: 1, periodMs: 1000, resetsAt: "2027-01-15T08:00:02.000Z"),
                    daily: .init(used: 3, limit: 200, periodMs: 86_400_000, resetsAt: "2027-01-16T08:00:00.000Z"),
                    exhaustedUntil: "2027-01-15T09:00:00.000Z"),
                pool: .init(pools: 1, open: 2, idle: 1, leased: 1), token: .init(expiresAt: "2027-01-15T09:30:00.000Z")),
            .init(id: "c2", workspaceID: "w1", label: "", host: "h", port: nil, username: nil,
                  token: .init(expiresAt: "2027-01-15T09:30:00.000Z", lastRefreshError: "invalid_grant")),
        ])
        let lines = CredentialStatusTable.lines(result)
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("WORKSPACE\tID\t"))
        #expect(lines[1].split(separator: "\t").map(String.init) == [
            "w1", "c1", "Gmail", "smtp.gmail.com:587", "2027-01-15T08:00:00.123Z", "auth_failed at 2027-01-15T08:00:01.000Z",
            "rate 1/1 per 1s; daily 3/200, all free at 2027-01-16T08:00:00.000Z; provider quota spent until 2027-01-15T09:00:00.000Z",
            "2 open, 1 idle, 1 leased, 0 waiting", "expires 2027-01-15T09:30:00.000Z",
        ])
        #expect(lines[2].split(separator: "\t").map(String.init) == [
            "w1", "c2", "-", "h:-", "-", "-", "-", "0 open, 0 idle, 0 leased, 0 waiting", "refresh failed: invalid_grant",
        ])
    }
}
