import NIOCore
import SidecarProtocol
import SidecarSMTP
import Testing

@testable import SidecarMail

/// `PooledTransport.credentialPools()`: each credential's pools, found by the route its sends
/// came with, never by parsing a label.
@Suite struct PooledTransportCredentialPoolsTests {
    @Test func aCredentialsPoolIsItsAndALabelTwoRoutesShareIsNobodys() async throws {
        try await FakePool.with { pool in
            #expect(pool.transport.credentialPools().isEmpty)
            #expect(await pool.send().result.error == nil)
            #expect(pool.transport.credentialPools() == [
                pool.route: CredentialStatusResult.Pool(pools: 1, open: 1, idle: 1, connectionsCreated: 1)
            ])
            // "a/b" + "c" and "a" + "b/c" make one label: their pools are not told apart by it.
            let sharingALabel = [
                TransportRoute(workspaceID: "a/b", credentialID: "c"), TransportRoute(workspaceID: "a", credentialID: "b/c"),
            ]
            for route in sharingALabel {
                let outcome = await pool.transport.send(
                    pool.message, options: SMTPSendOptions(), destination: pool.destination, route: route,
                    deadline: .now() + .seconds(120), beforeTransaction: nil, logger: SendFixtures.logger)
                #expect(outcome.result.error == nil)
            }
            #expect(pool.transport.statistics().count == 3)
            #expect(Set(pool.transport.credentialPools().keys) == [pool.route])
        }
    }
}
