import NIOCore
import NIOPosix

/// Threads of their own as a task executor (SE-0417), where a streamed message is composed.
///
/// Composing a large message (normalising and encoding bodies, base64-encoding
/// attachments, dot-stuffing) is CPU work in a chain of tasks that never waits on the
/// network while the socket keeps up. On an event loop such a chain runs to its end before
/// the loop polls its sockets again (NIO runs every task queued during a tick in the same
/// tick), so every other channel of the loop, and every other client of the daemon, waited
/// for the whole message. Here the loop runs only each chunk's write and is free between
/// chunks.
///
/// The threads are not `NIOThreadPool.singleton`'s: that pool runs blocking work (the
/// resolver's `getaddrinfo`, file reads) that can hold its threads for seconds, and a
/// message must not wait behind a slow DNS server. Each job is one chunk's worth of work,
/// so concurrent messages take turns. The pool can never be stopped (it lives as long as
/// the process), so a job given to it always runs.
public final class BodyTaskExecutor: TaskExecutor {
    /// The executor every connection uses: one thread per core, named `SMTP-BODY-…`.
    public static let shared = BodyTaskExecutor(threads: System.coreCount)

    private let threadPool: NIOThreadPool

    /// One instance only (``shared``): its pool can never be stopped and must never deinit.
    private init(threads: Int) {
        threadPool = NIOThreadPool._makePerpetualStartedPool(numberOfThreads: max(1, threads), threadNamePrefix: "SMTP-BODY-")
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        threadPool.submit { _ in
            // The pool cannot be stopped, so this always runs; a job that never ran would
            // leave its task suspended for ever.
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
