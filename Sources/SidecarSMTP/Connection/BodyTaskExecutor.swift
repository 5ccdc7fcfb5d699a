import NIOPosix

/// A `NIOThreadPool` as a task executor (SE-0417), where a streamed message is composed.
///
/// Composing a large message (normalising and encoding bodies, base64-encoding
/// attachments, dot-stuffing) is CPU work in a chain of tasks that never waits on the
/// network while the socket keeps up. On an event loop such a chain runs to its end before
/// the loop polls its sockets again (NIO runs every task queued during a tick in the same
/// tick), so every other channel of the loop, and every other client of the daemon, waited
/// for the whole message. Here the loop runs only each chunk's write and is free between
/// chunks.
///
/// `NIOThreadPool.singleton` never shuts down, so a job given to it always runs.
public final class BodyTaskExecutor: TaskExecutor {
    /// The executor every connection uses unless told otherwise.
    public static let shared = BodyTaskExecutor(threadPool: .singleton)

    private let threadPool: NIOThreadPool

    public init(threadPool: NIOThreadPool) {
        self.threadPool = threadPool
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        threadPool.submit { _ in
            // Run even when the pool reports itself cancelled (shutting down): a job that
            // never runs would leave its task suspended for ever.
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
