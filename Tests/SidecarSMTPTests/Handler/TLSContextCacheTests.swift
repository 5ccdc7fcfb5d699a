import NIOSSL
import SidecarCore
import Testing

@testable import SidecarSMTP

@Suite struct TLSContextCacheTests {
    @Test func oneContextPerDistinctSettingsAndTheServerNameIsNotPartOfTheKey() async throws {
        let cache = TLSContextCache()
        let first = try await cache.context(for: SMTPTLSSettings(serverName: "a.example"))
        let second = try await cache.context(for: SMTPTLSSettings(serverName: "b.example"))
        #expect(first === second)
        #expect(cache.count == 1)
        let strict = try await cache.context(for: SMTPTLSSettings(minimumVersion: .tls13))
        #expect(strict !== first)
        _ = try await cache.context(for: SMTPTLSSettings(acceptUnverifiedCertificates: true))
        #expect(cache.count == 3)
    }

    @Test func anInvalidCABundleIsCertificateInvalid() async {
        await #expect(throws: SidecarError.self) {
            _ = try await TLSContextCache().context(for: SMTPTLSSettings(additionalCAPEM: "not a certificate"))
        }
        do {
            _ = try await TLSContextCache().context(for: SMTPTLSSettings(additionalCAPEM: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
        } catch {
            #expect(error.code == .certificateInvalid)
        }
    }
}
