import NIOCore

/// An event loop as a task executor (SE-0417), so a connection's tasks and every
/// nonisolated async function they call run on the connection's loop without hopping.
///
/// With NIO installed as the global executor, a global job runs *isolated to* its event
/// loop, so each entry into a nonisolated async function is an executor switch the runtime
/// cannot take inline: it re-enqueues the task, about 36 times per send. A task that
/// prefers this executor runs its jobs on the generic executor with this task executor,
/// and a switch to generic with the same preference continues inline.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
