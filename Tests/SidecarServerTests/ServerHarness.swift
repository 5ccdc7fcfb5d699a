import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SidecarCore
import SidecarProtocol
import SidecarServer
import SidecarTestSupport
import Synchronization

/// Runs a real ``SidecarServer`` in-process on a fresh Unix socket for the duration of a
/// test, inside a `ServiceGroup` so graceful shutdown is the real thing.
struct ServerHarness {
    let socketPath: String
    let server: SidecarServer
    let group: ServiceGroup

    static func makeSocketPath() -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sidecar-\(UUID().uuidString.prefix(8))")
        try! FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent("s.sock").path
    }

    /// Starts a server, runs `body`, then shuts the server down gracefully.
    static func withServer<Result: Sendable>(
        maxConnections: Int = 16, maxInFlight: Int = 8, maxFrameBytes: Int = 1024, idleTimeout: Duration = .seconds(60),
        peerPolicy: PeerPolicy = PeerPolicy(), handler: (any RequestHandler)? = nil,
        largeRequestExecutor: (any TaskExecutor)? = nil, largeRequestBytes: Int = 256 * 1024,
        metrics: ServerMetrics = .none,
        _ body: (ServerHarness) async throws -> Result
    ) async throws -> Result {
        let path = makeSocketPath()
        let stats = ServerStats(metrics: metrics)
        let router = OperationRouter(
            limits: .init(maxFrameBytes: maxFrameBytes, maxInFlight: maxInFlight, idleTimeoutMs: 60_000),
            serverVersion: "test", stats: stats,
            metricsText: { "# TYPE smtp_sidecar_test_total counter\nsmtp_sidecar_test_total 1\n" })
        let settings = SidecarServer.Settings(
            listener: .path(path, mode: 0o600, group: nil), peerPolicy: peerPolicy, maxConnections: maxConnections,
            maxInFlightPerConnection: maxInFlight, maxFrameBytes: maxFrameBytes, idleTimeout: idleTimeout,
            largeRequestExecutor: largeRequestExecutor, largeRequestBytes: largeRequestBytes)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let server = SidecarServer(
            settings: settings, handler: handler ?? router, stats: stats, notifier: RecordingNotifier(), logger: logger)
        let group = ServiceGroup(services: [server], logger: logger)
        let harness = ServerHarness(socketPath: path, server: server, group: group)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await waitForSocket(path)
            do {
                let result = try await body(harness)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                tasks.cancelAll()
                throw error
            }
        }
    }

    static func waitForSocket(_ path: String) async throws {
        for _ in 0..<500 {
            if let client = try? await RawClient.connect(path) {
                await client.close()
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TimedOut()
    }

    func connect() async throws -> RawClient {
        try await RawClient.connect(socketPath)
    }
}

/// Records what the server tells its supervisor.
final class RecordingNotifier: LifecycleNotifier {
    let events = Mutex<[String]>([])
    func ready() { events.withLock { $0.append("READY=1") } }
    func status(_ text: String) { events.withLock { $0.append("STATUS=\(text)") } }
    func stopping() { events.withLock { $0.append("STOPPING=1") } }
    func watchdog() { events.withLock { $0.append("WATCHDOG=1") } }
    var watchdogInterval: Duration? { nil }
}

/// A handler whose requests wait until the test opens the gate, recording how many have
/// started: for backpressure and drain tests.
final class GatedHandler: RequestHandler {
    struct State {
        var started = 0
        var open = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    let state = Mutex(State())

    var started: Int { state.withLock { $0.started } }

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }

    func handle(_ request: Request, context: RequestContext) async -> Response.Outcome {
        await withCheckedContinuation { continuation in
            let proceed = state.withLock { state in
                state.started += 1
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if proceed { continuation.resume() }
        }
        if case .ping(let params) = request.operation {
            return .success(PingResult(data: params.data))
        }
        return .success(NoParams())
    }

    /// Waits until `count` requests have started.
    func waitForStarted(_ count: Int) async throws {
        for _ in 0..<1000 where started < count {
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
