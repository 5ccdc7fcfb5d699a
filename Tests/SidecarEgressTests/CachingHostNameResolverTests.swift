import NIOCore
import Synchronization
import Testing

@testable import SidecarEgress

/// Answers are reused for their time to live, per name and port, never when they failed.
@Suite struct CachingHostNameResolverTests {
    /// Counts lookups; answers 192.0.2.x with x = the lookup's number, or fails for "down".
    final class CountingResolver: HostNameResolver {
        let lookups = Mutex(0)

        func resolve(host: String, port: Int) async throws -> [SocketAddress] {
            let count = lookups.withLock { count in
                count += 1
                return count
            }
            if host == "down.example" { throw HostNameResolutionError.failed(code: -3) }
            return [try SocketAddress(ipAddress: "192.0.2.\(count)", port: port)]
        }
    }

    final class TestClock: Sendable {
        let instant = Mutex(NIODeadline.uptimeNanoseconds(1_000_000_000))
        func advance(_ amount: TimeAmount) { instant.withLock { $0 = $0 + amount } }
        var now: NIODeadline { instant.withLock { $0 } }
    }

    @Test func anAnswerIsReusedUntilItExpires() async throws {
        let base = CountingResolver()
        let clock = TestClock()
        let cache = CachingHostNameResolver(base, timeToLive: .seconds(30), now: { clock.now })
        let first = try await cache.resolve(host: "smtp.example.com", port: 587)
        clock.advance(.seconds(29))
        #expect(try await cache.resolve(host: "SMTP.example.com", port: 587) == first, "names are case-insensitive")
        #expect(base.lookups.withLock { $0 } == 1)
        clock.advance(.seconds(1))
        let renewed = try await cache.resolve(host: "smtp.example.com", port: 587)
        #expect(renewed != first)
        #expect(base.lookups.withLock { $0 } == 2)
    }

    @Test func portsAreSeparateAndFailuresAreNotRemembered() async throws {
        let base = CountingResolver()
        let cache = CachingHostNameResolver(base)
        _ = try await cache.resolve(host: "smtp.example.com", port: 587)
        _ = try await cache.resolve(host: "smtp.example.com", port: 465)
        #expect(base.lookups.withLock { $0 } == 2)
        for _ in 0..<2 {
            await #expect(throws: HostNameResolutionError.self) { try await cache.resolve(host: "down.example", port: 587) }
        }
        #expect(base.lookups.withLock { $0 } == 4)
    }

    @Test func aFullCacheMakesRoom() async throws {
        let base = CountingResolver()
        let cache = CachingHostNameResolver(base, capacity: 2)
        for name in ["a.example", "b.example", "c.example", "a.example"] {
            _ = try await cache.resolve(host: name, port: 587)
        }
        // c cleared the full cache, so a was looked up again; c is still remembered.
        #expect(base.lookups.withLock { $0 } == 4)
        _ = try await cache.resolve(host: "c.example", port: 587)
        #expect(base.lookups.withLock { $0 } == 4)
    }

    @Test func vettingStillAppliesToARememberedAnswer() async throws {
        let cache = CachingHostNameResolver(StaticResolver(["internal.example": ["10.0.0.5"]]))
        let guardrail = DestinationResolver(resolver: cache)
        for _ in 0..<2 {
            await #expect(throws: (any Error).self) { try await guardrail.vet(host: "internal.example", port: 587) }
        }
    }
}
