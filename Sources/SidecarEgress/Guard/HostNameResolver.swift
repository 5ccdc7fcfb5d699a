#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix

/// Turns a host name into addresses. The seam where tests put a fixed answer (for example a
/// name that "rebinds" to a private address) in place of DNS.
public protocol HostNameResolver: Sendable {
    /// All addresses of `host` for a TCP connection to `port`, IPv6 and IPv4, in the
    /// resolver's preferred order. Throws ``HostNameResolutionError``.
    func resolve(host: String, port: Int) async throws -> [SocketAddress]
}

/// Why a name did not resolve.
public enum HostNameResolutionError: Error, Sendable, Hashable {
    /// The name does not exist or has no addresses (`EAI_NONAME`, `EAI_NODATA`).
    case notFound
    /// The resolver failed for another reason, possibly temporary (`EAI_AGAIN`, ...).
    case failed(code: Int32)
    /// No answer within the time limit.
    case timedOut
}

/// The system resolver (`getaddrinfo`, so `/etc/hosts` and nsswitch apply), run on a
/// thread pool so it never blocks an event loop or the cooperative pool, with a time
/// limit. `getaddrinfo` cannot be cancelled: after a time-out its thread finishes on its own
/// and the answer is dropped.
public struct SystemHostNameResolver: HostNameResolver {
    public var threadPool: NIOThreadPool
    public var eventLoopGroup: any EventLoopGroup
    public var timeout: TimeAmount

    public init(
        threadPool: NIOThreadPool = .singleton,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        timeout: TimeAmount = .seconds(10)
    ) {
        self.threadPool = threadPool
        self.eventLoopGroup = eventLoopGroup
        self.timeout = timeout
    }

    public func resolve(host: String, port: Int) async throws -> [SocketAddress] {
        let eventLoop = eventLoopGroup.next()
        let promise = eventLoop.makePromise(of: [SocketAddress].self)
        let lookup = threadPool.runIfActive(eventLoop: eventLoop) {
            try Self.lookUp(host: host, port: port)
        }
        let timer = eventLoop.scheduleTask(in: timeout) {
            promise.fail(HostNameResolutionError.timedOut)
        }
        lookup.whenComplete { result in
            timer.cancel()
            // A promise completed twice keeps its first result: the time-out may have won.
            promise.completeWith(result)
        }
        return try await promise.futureResult.get()
    }

    static func lookUp(host: String, port: Int) throws -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Darwin)
        hints.ai_socktype = SOCK_STREAM
        #else
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0 else {
            if status == EAI_NONAME || status == Self.noDataStatus { throw HostNameResolutionError.notFound }
            throw HostNameResolutionError.failed(code: status)
        }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var cursor = list
        while let entry = cursor?.pointee {
            defer { cursor = entry.ai_next }
            guard let sockaddr = entry.ai_addr else { continue }
            let address: SocketAddress
            switch entry.ai_family {
            case AF_INET:
                address = sockaddr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    SocketAddress($0.pointee, host: host)
                }
            case AF_INET6:
                address = sockaddr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    SocketAddress($0.pointee, host: host)
                }
            default:
                continue
            }
            if !addresses.contains(address) { addresses.append(address) }
        }
        guard !addresses.isEmpty else { throw HostNameResolutionError.notFound }
        return addresses
    }

    /// `EAI_NODATA`: the name exists but has no address (glibc -5, Darwin 7).
    #if canImport(Darwin)
    static let noDataStatus: Int32 = 7
    #else
    static let noDataStatus: Int32 = -5
    #endif
}
