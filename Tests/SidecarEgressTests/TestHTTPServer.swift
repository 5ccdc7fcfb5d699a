import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A tiny in-process HTTP server on 127.0.0.1 that answers with canned raw bytes, so tests
/// control every byte (chunked bodies, lying Content-Length, stalls). Records each
/// request's path.
final class TestHTTPServer: Sendable {
    enum Step: Sendable {
        case send(String)
        case sendBytes([UInt8])
        case stall
    }

    typealias Route = @Sendable (String) -> [Step]

    let port: Int
    private let requested = Mutex<[String]>([])
    private let channel: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>

    var requestedPaths: [String] { requested.withLock { $0 } }

    private init(channel: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>) {
        self.channel = channel
        self.port = channel.channel.localAddress?.port ?? 0
    }

    /// Starts a server, runs `body`, then stops it (stalled connections are cancelled).
    static func with<T: Sendable>(
        tls: NIOSSLContext? = nil,
        route: @escaping Route,
        _ body: @Sendable (TestHTTPServer) async throws -> T
    ) async throws -> T {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { child in
                child.eventLoop.makeCompletedFuture {
                    if let tls {
                        try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    }
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: child)
                }
            }
        let server = TestHTTPServer(channel: channel)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await withThrowingDiscardingTaskGroup { connections in
                    try await channel.executeThenClose { inbound in
                        for try await connection in inbound {
                            connections.addTask { await server.serve(connection, route: route) }
                        }
                    }
                }
            }
            defer {
                channel.channel.close(promise: nil)
                group.cancelAll()
            }
            return try await body(server)
        }
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, route: Route) async {
        try? await connection.executeThenClose { inbound, outbound in
            var received: [UInt8] = []
            for try await buffer in inbound {
                received += buffer.readableBytesView
                if let end = Self.headEnd(received) {
                    let head = String(decoding: received[..<end], as: UTF8.self)
                    let requestLine = head.split(separator: "\r\n").first ?? ""
                    let path = requestLine.split(separator: " ").dropFirst().first.map(String.init) ?? ""
                    requested.withLock { $0.append(path) }
                    for step in route(path) {
                        switch step {
                        case .send(let text):
                            try await outbound.write(ByteBuffer(string: text))
                        case .sendBytes(let bytes):
                            try await outbound.write(ByteBuffer(bytes: bytes))
                        case .stall:
                            try await Task.sleep(for: .seconds(60))
                        }
                    }
                    return
                }
            }
        }
    }

    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }
}
