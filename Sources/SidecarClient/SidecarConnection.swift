import FoundationEssentials
import NIOCore
import NIOPosix
import SidecarCore
import SidecarProtocol
import Synchronization

/// A client connection to the sidecar's Unix socket. Many requests may be in flight at
/// once; responses are matched to requests by id, in whatever order they arrive.
///
/// ```swift
/// try await SidecarConnection.withConnection(socketPath: "/run/smtp-sidecar/smtp-sidecar.sock") { sidecar in
///     let hello = try await sidecar.hello()
///     let pong = try await sidecar.call("ping", params: PingParams(data: "x"), as: PingResult.self)
/// }
/// ```
public final class SidecarConnection: Sendable {
    /// A response before its result is decoded into a type.
    public struct RawResponse: Sendable {
        public var id: RequestID?
        public var ok: Bool
        public var error: SidecarError?
        /// The whole response JSON.
        public var json: Data

        /// Decodes `result` as `Result`.
        public func result<Result: Decodable & Sendable>(as type: Result.Type) throws -> Result? {
            try JSONDecoder().decode(ResponseEnvelope<Result>.self, from: json).result
        }
    }

    struct State {
        var waiting: [RequestID: CheckedContinuation<RawResponse, any Error>] = [:]
        /// Responses with `id: null` (framing errors, refusals), in arrival order.
        var unrouted: [RawResponse] = []
        var closedError: (any Error)?
    }

    let channel: NIOAsyncChannel<InboundFrame, Never>
    private let state = Mutex(State())
    private let nextID = Atomic<Int64>(1)

    init(channel: NIOAsyncChannel<InboundFrame, Never>) {
        self.channel = channel
    }

    /// Connects, runs `body` with the connection, and closes it.
    public static func withConnection<Result: Sendable>(
        socketPath: String, maxFrameBytes: Int = 64 * 1024 * 1024,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        _ body: (SidecarConnection) async throws -> Result
    ) async throws -> Result {
        let maxFrame = UInt32(clamping: maxFrameBytes)
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connect(unixDomainSocketPath: socketPath) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(FrameDecoder(maxPayloadLength: maxFrame)))
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))
                    return try NIOAsyncChannel<InboundFrame, Never>(wrappingChannelSynchronously: channel)
                }
            }
        let connection = SidecarConnection(channel: channel)
        return try await channel.executeThenClose { inbound, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await connection.readResponses(inbound) }
                defer { group.cancelAll() }
                let result = try await body(connection)
                channel.channel.close(promise: nil)
                return result
            }
        }
    }

    /// Sends `op` with `params` and returns the decoded result, or throws the response's
    /// ``SidecarError``.
    public func call<Params: Encodable & Sendable, Result: Decodable & Sendable>(
        _ op: String, params: Params?, as type: Result.Type, id: RequestID? = nil
    ) async throws -> Result {
        let response = try await callRaw(op, params: params, id: id)
        if let error = response.error { throw error }
        guard let result = try response.result(as: Result.self) else {
            throw SidecarError(code: .internalError, message: "The response has no result.")
        }
        return result
    }

    /// Sends `op` and returns the response undecoded, error responses included.
    public func callRaw<Params: Encodable & Sendable>(_ op: String, params: Params?, id: RequestID? = nil) async throws
        -> RawResponse
    {
        let id = id ?? .integer(nextID.wrappingAdd(1, ordering: .relaxed).oldValue)
        let payload = try OutgoingRequest(id: id, op: op, params: params).payload()
        return try await exchange(id: id, payload: payload)
    }

    /// Sends a payload as one frame and waits for the response carrying `id`.
    public func exchange(id: RequestID, payload: ByteBuffer) async throws -> RawResponse {
        try await withCheckedThrowingContinuation { continuation in
            let failure = state.withLock { state -> (any Error)? in
                if let error = state.closedError { return error }
                state.waiting[id] = continuation
                return nil
            }
            if let failure {
                continuation.resume(throwing: failure)
                return
            }
            channel.channel.writeAndFlush(payload).whenFailure { error in
                let waiting = self.state.withLock { $0.waiting.removeValue(forKey: id) }
                waiting?.resume(throwing: error)
            }
        }
    }

    public func hello(client: String = "smtp-sidecar-client") async throws -> HelloResult {
        try await call("hello", params: HelloParams(versions: ProtocolVersion.supported, client: client), as: HelloResult.self)
    }

    public func ping(data: String? = nil, delayMs: Int? = nil) async throws -> PingResult {
        try await call("ping", params: PingParams(data: data, delayMs: delayMs), as: PingResult.self)
    }

    public func stats() async throws -> StatsResult {
        try await call("stats", params: NoParams?.none, as: StatsResult.self)
    }

    /// The daemon's metrics in the Prometheus text format.
    public func metrics() async throws -> MetricsResult {
        try await call("metrics", params: NoParams?.none, as: MetricsResult.self)
    }

    /// The health of the daemon's stored credentials: all, one workspace's, or the one named.
    public func credentialStatus(credentialID: String? = nil, workspaceID: String? = nil) async throws
        -> CredentialStatusResult
    {
        try await call(
            "credential_status", params: CredentialStatusParams(credentialID: credentialID, workspaceID: workspaceID),
            as: CredentialStatusResult.self)
    }

    /// Responses that carried no id (framing errors, connection refusals) so far.
    public var unroutedResponses: [RawResponse] {
        state.withLock { $0.unrouted }
    }

    private func readResponses(_ inbound: NIOAsyncChannelInboundStream<InboundFrame>) async {
        var closedError: any Error = SidecarClientError.connectionClosed
        do {
            for try await frame in inbound {
                guard case .payload(let buffer) = frame else {
                    closedError = SidecarClientError.malformedResponse
                    break
                }
                let json = Data(buffer.readableBytesView)
                guard let envelope = try? JSONDecoder().decode(ResponseEnvelope<NoParams>.self, from: json) else {
                    closedError = SidecarClientError.malformedResponse
                    break
                }
                let response = RawResponse(id: envelope.id, ok: envelope.ok, error: envelope.error, json: json)
                let waiting = state.withLock { state -> CheckedContinuation<RawResponse, any Error>? in
                    guard let id = response.id, let waiting = state.waiting.removeValue(forKey: id) else {
                        state.unrouted.append(response)
                        return nil
                    }
                    return waiting
                }
                waiting?.resume(returning: response)
            }
        } catch {
            closedError = error
        }
        let (waiting, unrouted) = state.withLock { state in
            state.closedError = closedError
            defer { state.waiting = [:] }
            return (Array(state.waiting.values), state.unrouted)
        }
        // A connection refused by the server says why in an unrouted error response.
        let reason: any Error = unrouted.last?.error ?? closedError
        for continuation in waiting {
            continuation.resume(throwing: reason)
        }
    }
}

/// Client-side failures that are not the server's error responses.
public enum SidecarClientError: Error, Sendable {
    case connectionClosed
    case malformedResponse
}
