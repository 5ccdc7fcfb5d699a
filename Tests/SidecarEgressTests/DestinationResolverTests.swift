import NIOCore
import SidecarCore
import Testing

@testable import SidecarEgress

@Suite struct DestinationResolverTests {
    let loopbackOnly = EgressPolicy(allowedCIDRs: [CIDR("127.0.0.1/32")!, CIDR("::1/128")!])

    @Test func nameResolvingToPrivateAddressIsRefused() async throws {
        let guardian = DestinationResolver(resolver: StaticResolver(["rebind.example": ["10.0.0.5"]]))
        let error = await #expect(throws: SidecarError.self) {
            try await guardian.vet(host: "rebind.example", port: 587, field: "params.smtp.host")
        }
        #expect(error?.code == .destinationForbidden)
        #expect(error?.field == "params.smtp.host")
        #expect(error?.message.contains("\"rebind.example\" resolves to a private address (10.0.0.5)") == true)
    }

    @Test func anyForbiddenAddressRefusesTheHost() async throws {
        let guardian = DestinationResolver(
            resolver: StaticResolver(["mixed.example": ["8.8.8.8", "2001:4860:4860::8888", "169.254.169.254"]])
        )
        let error = await #expect(throws: SidecarError.self) {
            try await guardian.vet(host: "mixed.example", port: 443)
        }
        #expect(error?.code == .destinationForbidden)
        #expect(error?.message.contains("a cloud metadata address (169.254.169.254)") == true)
    }

    @Test func publicAddressesAreReturnedInOrder() async throws {
        let guardian = DestinationResolver(
            resolver: StaticResolver(["smtp.example": ["2001:4860:4860::8888", "8.8.8.8"]])
        )
        let addresses = try await guardian.vet(host: "SMTP.example.", port: 465).addresses
        #expect(addresses.map(\.ipAddress) == ["2001:4860:4860::8888", "8.8.8.8"])
        #expect(addresses.map(\.port) == [465, 465])
    }

    @Test func systemLocalhostIsRefusedByDefault() async throws {
        let guardian = DestinationResolver()
        let error = await #expect(throws: SidecarError.self) {
            try await guardian.vet(host: "localhost", port: 25)
        }
        #expect(error?.code == .destinationForbidden)
        #expect(error?.message.contains("a loopback address") == true)
    }

    @Test func systemLocalhostPassesWhenLoopbackIsAllowed() async throws {
        let guardian = DestinationResolver(policy: loopbackOnly)
        let addresses = try await guardian.vet(host: "localhost", port: 2525).addresses
        #expect(!addresses.isEmpty)
        #expect(addresses.allSatisfy { $0.ipAddress == "127.0.0.1" || $0.ipAddress == "::1" })
    }

    @Test(arguments: [
        ("127.0.0.1", "a loopback address (127.0.0.1)"),
        ("[::1]", "a loopback address (::1)"),
        ("::ffff:127.0.0.1", "a loopback address (::ffff:127.0.0.1)"),
        ("169.254.169.254", "a cloud metadata address"),
        ("[fd00:ec2::254]", "a cloud metadata address"),
        ("0.0.0.0", "an unspecified address"),
        ("2130706433", "disguised way of writing 127.0.0.1, a loopback address"),
        ("0x7f.1", "disguised way of writing 127.0.0.1"),
        ("127.1", "disguised way of writing 127.0.0.1"),
        ("0177.0.0.1", "disguised way of writing 127.0.0.1"),
        ("0xa9fea9fe", "disguised way of writing 169.254.169.254, a cloud metadata address"),
        ("167772165", "writing 10.0.0.5, a private address"),
        ("134744072", "write it as 8.8.8.8"),
        ("1.2.3.4.5", "not a valid IPv4 address"),
        ("999.0.0.1", "not a valid IPv4 address"),
        ("example.0x10", "not a valid IPv4 address"),
    ])
    func literalsAreCheckedWithoutDNS(host: String, expected: String) async throws {
        // No name in this resolver: a DNS lookup would fail with connection_failed instead.
        let guardian = DestinationResolver(resolver: StaticResolver([:]))
        let error = await #expect(throws: SidecarError.self) {
            try await guardian.vet(host: host, port: 25)
        }
        #expect(error?.code == .destinationForbidden)
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "")")
    }

    @Test func allowedLiteralNeedsNoDNS() async throws {
        let guardian = DestinationResolver(policy: loopbackOnly, resolver: StaticResolver([:]))
        #expect(try await guardian.vet(host: "127.0.0.1", port: 2525).addresses.map(\.ipAddress) == ["127.0.0.1"])
        #expect(try await guardian.vet(host: "[::1]", port: 2525).addresses.map(\.ipAddress) == ["::1"])
        #expect(try await guardian.vet(host: "8.8.8.8", port: 2525).addresses.map(\.ipAddress) == ["8.8.8.8"])
    }

    @Test func unknownNameIsConnectionFailed() async throws {
        let guardian = DestinationResolver(resolver: StaticResolver([:]))
        let error = await #expect(throws: SidecarError.self) {
            try await guardian.vet(host: "nowhere.invalid", port: 25)
        }
        #expect(error?.code == .connectionFailed)
    }

    @Test(arguments: ["", "exa mple.com", "a/b", "host\r\nX: y", "a..b", String(repeating: "a", count: 64) + ".com"])
    func malformedHostsAreInvalidParams(host: String) async throws {
        let guardian = DestinationResolver(resolver: StaticResolver([:]))
        let error = await #expect(throws: SidecarError.self) {
            try await guardian.vet(host: host, port: 25)
        }
        #expect(error?.code == .invalidParams)
        #expect(error?.message.contains("\r") == false)
    }
}
