import Logging
import NIOCore
import NIOPosix
import SidecarCore
import SidecarMessage
import SidecarTestSupport
import Synchronization
import Testing

@testable import SidecarSMTP

/// The SMTP client against a scripted server, for faults Postfix does not produce on
/// demand. Time-limited: a lost continuation in the body-abort path hung this suite once
/// (2026-12-06, not reproduced since); a hang should fail here, not stall the whole run.
@Suite(.timeLimit(.minutes(2))) struct ScriptedServerTests {
    static func connect(_ server: ScriptedSMTPServer) async throws -> SMTPConnection {
        try await SMTPConnection.connect(
            configuration: SMTPConfiguration(host: "127.0.0.1", port: server.port, security: .plaintext),
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "scripted"))
    }

    static func bigAttachment(_ source: some AttachmentSource) -> AttachmentDraft {
        AttachmentDraft(filename: "big.bin", contentType: "application/octet-stream", content: .source(source))
    }

    /// The server drops the connection after 64 KB of an 11 MB message, never having
    /// answered the pipelined MAIL and RCPT (with CHUNKING they went out with BDAT). The
    /// message is larger than what the kernel's socket buffers can take while the server
    /// does not read (a 4 MB send buffer, the receive window of a reader that stopped):
    /// with 1.3 MB, a loaded machine could write the whole message into them before the
    /// reset arrived, which makes the outcome unknown, not "not sent".
    @Test(arguments: [true, false])
    func aDropInTheMiddleOfTheMessageIsInTheDataPhase(chunking: Bool) async throws {
        var script = ScriptedSMTPServer.Script()
        if chunking { script.extensions.append("CHUNKING") }
        script.holdTransactionReplies = true
        script.dropAfterMessageBytes = 64 * 1024
        let server = try await ScriptedSMTPServer.start(script)
        let connection = try await Self.connect(server)
        let message = try TestMessages.compose(attachments: [Self.bigAttachment(RecordingSource(byteCount: 8_000_000))])
        let result = await connection.send(message)
        guard case .notSent(let failure) = result else {
            Issue.record("expected not sent, got \(result)")
            return
        }
        #expect(failure.phase == .data)
        #expect(failure.error.code == .connectionFailed)
        #expect(server.deliveries.isEmpty)
        await connection.quit()
        await server.stop()
    }
}

extension ScriptedServerTests {
    /// The daemon's tasks run on the event loops (SidecarServer's executor preference). A
    /// streamed message is still composed off them, so that the loop serves its other
    /// channels, and the daemon its other clients, between the chunks of a big message.
    /// (A chain of tasks on a loop that never waits on a socket runs to its end before
    /// the loop polls again: 2.7 s of other clients' silence for an 8 MB message.)
    @Test func aStreamedMessageIsComposedOffTheEventLoop() async throws {
        let server = try await ScriptedSMTPServer.start(ScriptedSMTPServer.Script())
        let connection = try await Self.connect(server)
        let source = RecordingSource(byteCount: 2_000_000)
        let message = try TestMessages.compose(attachments: [Self.bigAttachment(source)])
        let loop = LoopTaskExecutor(eventLoop: connection.channel.eventLoop)
        let (calledOnLoop, result) = await Task(executorPreference: loop) {
            (MultiThreadedEventLoopGroup.currentEventLoop != nil, await connection.send(message))
        }.value
        #expect(calledOnLoop, "the send was called from a task on the event loop, as in the daemon")
        guard case .sent = result else {
            Issue.record("expected sent, got \(result)")
            return
        }
        #expect(source.counts.chunks > 10)
        #expect(source.counts.onLoop == 0, "\(source.counts.onLoop) of \(source.counts.chunks) chunks were made on the loop")
        #expect(server.deliveries.count == 1)
        await connection.quit()
        await server.stop()
    }
}

/// A task executor that runs its jobs on one event loop, as the daemon's connection tasks do.
final class LoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// Attachment bytes in 32 KB chunks, counting the chunks produced on an event loop thread.
final class RecordingSource: AttachmentSource {
    let size: Int
    private let state = Mutex((chunks: 0, onLoop: 0))

    init(byteCount: Int) {
        size = byteCount
    }

    var byteCount: Int? { size }
    var counts: (chunks: Int, onLoop: Int) { state.withLock { $0 } }

    func makeChunks() -> any AsyncSequence<ArraySlice<UInt8>, any Error> {
        Chunks(source: self, remaining: size)
    }

    func record() {
        let onLoop = MultiThreadedEventLoopGroup.currentEventLoop != nil
        state.withLock {
            $0.chunks += 1
            if onLoop { $0.onLoop += 1 }
        }
    }

    struct Chunks: AsyncSequence, AsyncIteratorProtocol {
        let source: RecordingSource
        var remaining: Int

        func makeAsyncIterator() -> Chunks { self }

        mutating func next() async throws -> ArraySlice<UInt8>? {
            guard remaining > 0 else { return nil }
            source.record()
            let count = Swift.min(remaining, 32 * 1024)
            remaining -= count
            return ArraySlice(repeating: UInt8(ascii: "x"), count: count)
        }
    }
}
