import NIOCore
import Synchronization

/// Remembers another resolver's answers for a short time, so a stream of sends to one
/// provider does not look the same name up for every message (a thread-pool hop and a
/// `getaddrinfo` each). Failures are not remembered. The answer is still vetted on every
/// use, and a remembered answer is if anything safer against DNS rebinding: it cannot
/// change under the caller for ``timeToLive``.
public final class CachingHostNameResolver: HostNameResolver {
    private struct Key: Hashable {
        var host: String
        var port: Int
    }

    private struct Entry {
        var addresses: [SocketAddress]
        var expires: NIODeadline
    }

    private let base: any HostNameResolver
    private let timeToLive: TimeAmount
    private let capacity: Int
    private let now: @Sendable () -> NIODeadline
    private let entries = Mutex<[Key: Entry]>([:])

    /// - Parameters:
    ///   - timeToLive: how long an answer is reused. Default 30 s.
    ///   - capacity: names remembered at most; when full, expired entries go first, then
    ///     everything (a cold lookup per name is all that costs).
    ///   - now: the clock (tests inject one).
    public init(
        _ base: any HostNameResolver,
        timeToLive: TimeAmount = .seconds(30),
        capacity: Int = 1024,
        now: @escaping @Sendable () -> NIODeadline = { .now() }
    ) {
        self.base = base
        self.timeToLive = timeToLive
        self.capacity = capacity
        self.now = now
    }

    public func resolve(host: String, port: Int) async throws -> [SocketAddress] {
        let key = Key(host: host.lowercased(), port: port)
        let current = now()
        if let cached = entries.withLock({ $0[key] }), cached.expires > current {
            return cached.addresses
        }
        let addresses = try await base.resolve(host: host, port: port)
        let entry = Entry(addresses: addresses, expires: now() + timeToLive)
        entries.withLock { entries in
            if entries.count >= capacity {
                let instant = now()
                entries = entries.filter { $0.value.expires > instant }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[key] = entry
        }
        return addresses
    }
}
