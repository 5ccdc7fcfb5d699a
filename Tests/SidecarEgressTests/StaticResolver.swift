import NIOCore

@testable import SidecarEgress

/// A resolver with fixed answers: the "DNS" of these tests. Counts lookups per name.
struct StaticResolver: HostNameResolver {
    var answers: [String: [String]]

    init(_ answers: [String: [String]]) {
        self.answers = answers
    }

    func resolve(host: String, port: Int) async throws -> [SocketAddress] {
        guard let texts = answers[host] else { throw HostNameResolutionError.notFound }
        return try texts.map { text in
            // "addr" or "addr#port" to override the port (a second server for fallback tests).
            let pieces = text.split(separator: "#")
            let overridden = pieces.count == 2 ? Int(pieces[1]) ?? port : port
            return try SocketAddress(ipAddress: String(pieces[0]), port: overridden)
        }
    }
}
