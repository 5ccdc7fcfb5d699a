import Logging
import NIOCore
import NIOEmbedded
import NIOSSL
import SidecarCore
import Testing

@testable import SidecarSMTP

/// An ``SMTPClientHandler`` on an `EmbeddedChannel`: the test plays the server by
/// writing replies inbound and reading commands outbound. No network.
struct EmbeddedSMTP {
    let channel: EmbeddedChannel
    let handler: SMTPClientHandler
    /// The session's one state, as the handler keeps it.
    var status: SMTPSessionState { handler.session }

    init(
        _ configuration: SMTPClientStateMachine.Configuration,
        tlsContext: NIOSSLContext? = nil,
        logger: Logger = Logger(label: "embedded")
    ) throws {
        channel = EmbeddedChannel()
        handler = SMTPClientHandler(
            configuration: configuration,
            host: "mx.example.com",
            tlsContext: tlsContext,
            tlsServerHostname: "mx.example.com",
            deadline: nil,
            logger: logger
        )
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 25)).wait()
    }

    var connected: EventLoopFuture<SMTPCapabilities> { handler.connected }

    func server(_ text: String) throws {
        try channel.writeInbound(ByteBuffer(string: text))
    }

    /// Everything the client wrote since the last call, as text.
    func client() throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    func startTransaction(
        _ request: SMTPTransactionRequest,
        message: String? = nil
    ) -> EventLoopFuture<SMTPClientHandler.TransactionProgress> {
        let promise = channel.eventLoop.makePromise(of: SMTPClientHandler.TransactionProgress.self)
        let buffer = message.map { ByteBuffer(string: $0) }
        handler.startTransaction(request, options: SMTPSendOptions(), message: buffer, deadline: nil, promise: promise)
        return promise.futureResult
    }

    /// Each write the client made since the last call, as text: one entry per flush unit.
    func clientWrites() throws -> [String] {
        var writes: [String] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { writes.append(String(buffer: buffer)) }
        return writes
    }

    /// A chunk of the message, dot-stuffed (for DATA) unless `stuffed` is false (BDAT).
    func writeBody(_ text: String, stuffed: Bool = true) -> EventLoopFuture<Void> {
        var stuffer = DotStuffer()
        var buffer = ByteBuffer()
        if stuffed {
            stuffer.stuff(Array(text.utf8), into: &buffer)
        } else {
            buffer.writeString(text)
        }
        let promise = channel.eventLoop.makePromise(of: Void.self)
        handler.writeBody(buffer, promise: promise)
        return promise.futureResult
    }

    func finishBody() -> EventLoopFuture<SMTPClientHandler.TransactionProgress> {
        let promise = channel.eventLoop.makePromise(of: SMTPClientHandler.TransactionProgress.self)
        handler.finishBody(promise: promise)
        return promise.futureResult
    }
}

extension EventLoopFuture where Value: Sendable {
    /// The value of an already-completed future on an embedded loop.
    func value() throws -> Value {
        var result: Result<Value, any Error>?
        assumeIsolated().whenComplete { result = $0 }
        guard let result else { throw NotCompleted() }
        return try result.get()
    }

    var isCompleted: Bool {
        var done = false
        assumeIsolated().whenComplete { _ in done = true }
        return done
    }
}

struct NotCompleted: Error {}
