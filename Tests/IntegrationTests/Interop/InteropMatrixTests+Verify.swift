import Foundation
import SidecarClient
import SidecarCore
import SidecarProtocol
import SidecarTestSupport
import Testing

extension InteropMatrixTests {
    /// `verify` over each security mode: the right password with each mechanism the server
    /// offers, and a wrong one refused with the server's 535; the EHLO the daemon reports
    /// matches what ``InteropServer`` declares (the other cases branch on it).
    @Test(arguments: securityMatrix)
    func verifyAcceptsTheRightPasswordAndRefusesAWrongOne(
        server: InteropServer, security: CredentialParams.Security
    ) async throws {
        let instance = try InteropServers.instance(server)
        if let reason = server.noTLSReason, security != .none {
            if security == .tls { try Test.cancel("no implicit TLS to try: \(reason)") }
            // STARTTLS required of a server that does not offer it: refused, never
            // downgraded to plaintext with the password.
            let response = try await Self.withDaemon { daemon in
                try await Self.verify(instance.credential(.starttls, password: "never-sent"), daemon: daemon)
            }
            #expect(response.error?.code == .starttlsUnavailable, "\(String(decoding: response.json, as: UTF8.self))")
            #expect(!instance.log.contains("never-sent"))
            return
        }
        try await Self.withDaemon { daemon in
            if security == .none {
                // No AUTH without TLS (OpenSMTPD): verify connects, greets and quits.
                let response = try await Self.verify(instance.credential(CredentialParams.Security.none), daemon: daemon)
                let result = try #require(try response.result(as: VerifyResult.self), "\(String(decoding: response.json, as: UTF8.self))")
                #expect(result.ok && result.security == "none")
                #expect(result.authMechanisms.isEmpty)
                Self.expectDeclaredExtensions(server, result.capabilities)
                return
            }
            for mechanism in server.authMechanisms {
                let auth: CredentialParams.AuthMechanism = mechanism == "PLAIN" ? .plain : .login
                let response = try await Self.verify(instance.credential(security, auth: auth), daemon: daemon)
                let json = String(decoding: response.json, as: UTF8.self)
                let result = try #require(try response.result(as: VerifyResult.self), "\(mechanism): \(json)")
                #expect(result.ok, "\(mechanism): \(json)")
                #expect(result.security == security.rawValue, "\(json)")
                #expect(Set(result.authMechanisms) == Set(server.authMechanisms), "\(json)")
                Self.expectDeclaredExtensions(server, result.capabilities)
            }
            let wrong = try await Self.verify(instance.credential(security, password: "wrong-\(Self.token())"), daemon: daemon)
            let json = String(decoding: wrong.json, as: UTF8.self)
            #expect(!wrong.ok, "\(json)")
            #expect(wrong.error?.code == .authFailed, "\(json)")
            #expect(wrong.error?.smtp?.code == 535, "\(json)")
            #expect(wrong.error?.retryable == false, "\(json)")
        }
    }

    static func expectDeclaredExtensions(
        _ server: InteropServer, _ capabilities: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for (keyword, declared) in server.declaredExtensions.sorted(by: { $0.key < $1.key }) {
            let offered = capabilities.contains { $0.uppercased() == keyword || $0.uppercased().hasPrefix(keyword + " ") }
            #expect(offered == declared, "\(server) \(keyword): EHLO \(capabilities)", sourceLocation: sourceLocation)
        }
    }
}
