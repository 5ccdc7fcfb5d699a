/// One caller's work for the database's thread, type-erased so that work with different
/// results can share a batch.
struct StateJob: Sendable {
    /// How the commit that includes this work must reach the disk.
    var synchronous: StateDatabase.Configuration.Synchronous
    /// The work only reads: alone it needs no transaction of its own (each statement is
    /// one), and it never waits for the disk.
    var readOnly = false
    /// Runs the work on the connection, inside the batch's transaction. Returns whether it
    /// failed (its savepoint is rolled back) and how to answer the caller once the batch
    /// has committed (nil) or failed (the error).
    var run: @Sendable (SQLiteConnection) -> (failed: Bool, answer: @Sendable ((any Error)?) -> Void)
    /// Answers the caller when the work never ran (the database closed, or the thread stopped).
    var fail: @Sendable (any Error) -> Void
}

/// Work waiting for the database's thread.
///
/// `draining` is true while a drain is submitted to the thread or running there, or while
/// a caller runs a job inline; only one of them uses the connection at a time, so batches
/// run in order, one at a time.
struct StateJobQueue {
    var jobs: [StateJob] = []
    var draining = false
    var closed = false
    /// Commits since the WAL was last checkpointed.
    var commitsSinceCheckpoint = 0
}
