import NIOCore
import NIOPosix
import SidecarCore
import SidecarProtocol
import SidecarServer
import SidecarTestSupport
import Synchronization
import Testing

/// A large request (a big attachment in the frame) is decoded and handled off the event
/// loop, so that parsing it does not hold up the loop's other clients; a small one stays on
/// the connection's loop.
@Suite struct LargeRequestTests {
    /// Answers every request, recording for each request id whether it ran on an event loop.
    final class LoopRecordingHandler: RequestHandler {
        let onLoop = Mutex<[String: Bool]>([:])

        func handle(_ request: Request, context: RequestContext) async -> Response.Outcome {
            let loop = MultiThreadedEventLoopGroup.currentEventLoop != nil
            onLoop.withLock { $0["\(request.id)"] = loop }
            return .success(PingResult(data: nil))
        }
    }

    /// Threads of a pool as a task executor, standing in for the daemon's body executor.
    final class PoolExecutor: TaskExecutor {
        static let pool = NIOThreadPool.singleton

        func enqueue(_ job: consuming ExecutorJob) {
            let job = UnownedJob(job)
            Self.pool.submit { _ in job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        }
    }

    static func send(id: Int, textBytes: Int) -> String {
        #"{"id":\#(id),"op":"send","params":{"workspace_id":"w","credential_id":"c","text":"\#(String(repeating: "x", count: textBytes))"}}"#
    }

    @Test func aLargeRequestIsDecodedAndHandledOffTheLoop() async throws {
        let handler = LoopRecordingHandler()
        try await ServerHarness.withServer(
            maxFrameBytes: 1 << 20, handler: handler, largeRequestExecutor: PoolExecutor(), largeRequestBytes: 64 * 1024
        ) { harness in
            let client = try await harness.connect()
            try await client.writeFrame(Self.send(id: 1, textBytes: 10))
            try await client.writeFrame(Self.send(id: 2, textBytes: 100_000))
            try await client.writeFrame(Self.send(id: 3, textBytes: 10))
            let responses = try await client.responses(3)
            #expect(responses.count == 3)
            await client.close()
        }
        #expect(handler.onLoop.withLock { $0 } == ["1": true, "2": false, "3": true])
    }

    @Test func withoutAnExecutorEveryRequestStaysOnTheLoop() async throws {
        let handler = LoopRecordingHandler()
        try await ServerHarness.withServer(maxFrameBytes: 1 << 20, handler: handler) { harness in
            let client = try await harness.connect()
            try await client.writeFrame(Self.send(id: 1, textBytes: 300_000))
            _ = try await client.responses(1)
            await client.close()
        }
        #expect(handler.onLoop.withLock { $0 } == ["1": true])
    }
}
