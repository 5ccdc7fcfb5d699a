import NIOPosix
import Synchronization

extension StateDatabase {
    /// The most work committed in one transaction: bounds how long one caller's commit
    /// waits for others' statements.
    static let maxBatch = 64
    /// Commits between two checkpoints of the WAL into the database file (automatic
    /// checkpoints are off: they would fsync on whichever thread happened to commit).
    static let checkpointEvery = 256

    /// Runs `body` in a transaction on the database's own thread and returns its result.
    ///
    /// `body` runs alone (serially with every other use of the connection), inside a
    /// savepoint of a `BEGIN IMMEDIATE` transaction that may hold other callers' work too;
    /// this returns only after that transaction committed. When `body` throws, only its own
    /// changes are rolled back and its error is returned. The database's own failures are
    /// ``SQLiteError``s.
    ///
    /// `synchronous` (default: the database's configuration) is how the commit must reach
    /// the disk: a batch with any `.full` work commits with `.full`.
    public func transaction<Result: Sendable>(
        synchronous: Configuration.Synchronous? = nil,
        _ body: @escaping @Sendable (SQLiteConnection) throws -> Result
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
            submit(synchronous: synchronous, body) { result in continuation.resume(with: result) }
        }
    }

    /// Runs `body`, which only reads, in its turn after the work queued before it, and
    /// returns its result. Like work that does not wait for the disk, it runs at once on
    /// the calling thread when the database's thread is idle; alone it runs without a
    /// transaction of its own (each statement reads a consistent snapshot), so it takes no
    /// write lock and changes no `synchronous` level. The database's own failures are
    /// ``SQLiteError``s.
    public func read<Result: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> Result) async throws
        -> Result
    {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
            submit(readOnly: true, body) { result in continuation.resume(with: result) }
        }
    }

    /// Queues `body` like ``transaction(synchronous:_:)`` without waiting for it: `completion`
    /// gets its result once its batch has committed (or failed). Work runs in the order it
    /// was queued, so anything queued after this call — in this process — sees its changes.
    ///
    /// Work whose commit does not wait for the disk (`.normal`) runs at once on the calling
    /// thread when the database's thread is idle (nothing queued, nothing running): such a
    /// commit is a write to the page cache, and handing it to the thread would cost two
    /// thread wake-ups, more than the commit itself. Work that must reach the disk, and
    /// any work while the thread is busy, is queued for the thread: an `fsync` never
    /// happens on the caller's thread.
    public func submit<Result: Sendable>(
        synchronous: Configuration.Synchronous? = nil,
        readOnly: Bool = false,
        _ body: @escaping @Sendable (SQLiteConnection) throws -> Result,
        completion: @escaping @Sendable (Swift.Result<Result, any Error>) -> Void
    ) {
        let job = StateJob(
            synchronous: readOnly ? .normal : synchronous ?? self.synchronous,
            readOnly: readOnly,
            run: { connection in
                let result = Swift.Result<Result, any Error> { try body(connection) }
                let failed: Bool
                if case .failure = result { failed = true } else { failed = false }
                return (failed, { commitError in completion(commitError.map { .failure($0) } ?? result) })
            },
            fail: { error in completion(.failure(error)) })
        enqueue(job)
    }

    /// Starts draining the queue on the database's thread.
    private func startDrain() {
        thread.submit { state in
            switch state {
            case .active: self.drain()
            case .cancelled: self.failQueued(Self.closedError)
            }
        }
    }

    private func enqueue(_ job: StateJob) {
        enum Next { case none, drain, inline, refuse }
        let next = queue.withLock { queue -> Next in
            if queue.closed { return .refuse }
            if queue.draining {
                queue.jobs.append(job)
                return .none
            }
            // Whoever sets `draining` is the connection's only user until it clears it.
            queue.draining = true
            if job.synchronous == .normal { return .inline }
            queue.jobs.append(job)
            return .drain
        }
        switch next {
        case .none:
            break
        case .refuse:
            job.fail(Self.closedError)
        case .drain:
            startDrain()
        case .inline:
            for answer in run([job]) { answer() }
            let handOver = queue.withLock { queue -> Bool in
                queue.commitsSinceCheckpoint += 1
                guard queue.jobs.isEmpty, queue.commitsSinceCheckpoint < Self.checkpointEvery else { return true }
                queue.draining = false
                return false
            }
            // Work queued meanwhile, or a checkpoint, is the thread's.
            if handOver { startDrain() }
        }
    }

    /// On the database's thread: commits batches until the queue is empty, checkpointing
    /// the WAL when enough commits have accumulated.
    private func drain() {
        enum Step { case batch([StateJob]), checkpoint, done }
        while true {
            let step = queue.withLock { queue -> Step in
                if !queue.jobs.isEmpty {
                    let batch = Array(queue.jobs.prefix(Self.maxBatch))
                    queue.jobs.removeFirst(batch.count)
                    queue.commitsSinceCheckpoint += 1
                    return .batch(batch)
                }
                if queue.commitsSinceCheckpoint >= Self.checkpointEvery {
                    queue.commitsSinceCheckpoint = 0
                    return .checkpoint
                }
                queue.draining = false
                return .done
            }
            switch step {
            case .batch(let batch):
                batchesRun.add(1, ordering: .relaxed)
                for answer in run(batch) { answer() }
            case .checkpoint:
                // PASSIVE: never waits for another process's readers; what it cannot copy now
                // is copied next time.
                connection.withLock { connection in _ = try? connection?.execute("PRAGMA wal_checkpoint(PASSIVE)") }
            case .done:
                return
            }
        }
    }

    private func failQueued(_ error: any Error) {
        let jobs = queue.withLock { queue -> [StateJob] in
            queue.draining = false
            defer { queue.jobs.removeAll() }
            return queue.jobs
        }
        for job in jobs { job.fail(error) }
    }

    /// Runs `batch` in one transaction and returns how to answer each caller, to be called
    /// after the lock is released.
    private func run(_ batch: [StateJob]) -> [@Sendable () -> Void] {
        let configured = synchronous
        return connection.withLock { connection -> [@Sendable () -> Void] in
            guard let connection else {
                return batch.map { job in { @Sendable in job.fail(Self.closedError) } }
            }
            if batch.allSatisfy(\.readOnly) {
                // Reads alone: no transaction, no write lock, no commit.
                return batch.map { job in
                    let (_, answer) = job.run(connection)
                    return { @Sendable in answer(nil) }
                }
            }
            let mode: Configuration.Synchronous = batch.contains { $0.synchronous == .full } ? .full : .normal
            var answers: [@Sendable ((any Error)?) -> Void] = []
            answers.reserveCapacity(batch.count)
            do {
                try connection.committing(mode, configured: configured) { connection in
                    try connection.transaction { connection in
                        try Self.runJobs(batch, connection, answers: &answers)
                    }
                }
            } catch is SoleJobFailed {
                // Its own error is in its answer.
                return answers.map { answer in { @Sendable in answer(nil) } }
            } catch {
                return answers.map { answer in { @Sendable in answer(error) } }
                    + batch.dropFirst(answers.count).map { job in { @Sendable in job.fail(error) } }
            }
            return answers.map { answer in { @Sendable in answer(nil) } }
        }
    }

    /// Inside the batch's transaction: each job in a savepoint of its own, so that a job
    /// that fails rolls back only its own changes.
    private static func runJobs(
        _ batch: [StateJob], _ connection: SQLiteConnection, answers: inout [@Sendable ((any Error)?) -> Void]
    ) throws {
        if batch.count == 1 {
            // No savepoint needed: the job's failure rolls back the whole transaction.
            let (failed, answer) = batch[0].run(connection)
            answers.append(answer)
            if failed { throw SoleJobFailed() }
            return
        }
        for job in batch {
            try connection.run("SAVEPOINT job")
            let (failed, answer) = job.run(connection)
            answers.append(answer)
            if failed { try connection.run("ROLLBACK TO job") }
            try connection.run("RELEASE job")
        }
    }
}

/// Rolls back a one-job batch whose work threw; the work's own error reaches its caller.
private struct SoleJobFailed: Error {}
