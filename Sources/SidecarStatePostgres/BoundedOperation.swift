import NIOCore
import Synchronization

/// One database operation raced against its time limit: whichever ends first answers the
/// caller, the other is dropped.
///
/// ## Why not wait for the cancelled work (decision)
/// postgres-nio gives up a wait for a connection when its task is cancelled, but not a
/// statement already sent: a server that stops answering (a hung host, a partition, every
/// process stopped) keeps that statement's task waiting until the connection fails. A
/// bound that waits for the cancelled work, as a task group does, is then no bound at all:
/// the send waited as long as the server did. The caller is answered at the limit instead;
/// the work goes on in the background, cancelled, and holds its connection until the
/// server answers or the connection drops. The pool's size bounds how much of it there can
/// be: later operations wait for a connection, and their own limit answers them.
final class BoundedOperation<Value: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Value, any Error>?
        var work: Task<Void, Never>?
        var timer: Scheduled<Void>?
        var finished = false
    }

    private let state = Mutex(State())

    /// Runs `body`, answering with its result, or with `expired` once `limit` passes (the
    /// timer is `eventLoop`'s), or with `CancellationError` when the caller's task is
    /// cancelled first.
    static func run(
        limit: Duration, on eventLoop: any EventLoop, expired: @escaping @Sendable () -> any Error,
        _ body: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        let operation = BoundedOperation<Value>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                operation.start(continuation, limit: limit, on: eventLoop, expired: expired, body)
            }
        } onCancel: {
            operation.finish(.failure(CancellationError()))
        }
    }

    private func start(
        _ continuation: CheckedContinuation<Value, any Error>, limit: Duration, on eventLoop: any EventLoop,
        expired: @escaping @Sendable () -> any Error, _ body: @escaping @Sendable () async throws -> Value
    ) {
        let alreadyCancelled = state.withLock { state in
            guard !state.finished else { return true }
            state.continuation = continuation
            return false
        }
        if alreadyCancelled {
            continuation.resume(throwing: CancellationError())
            return
        }
        let work = Task {
            let result: Result<Value, any Error>
            do {
                result = .success(try await body())
            } catch {
                result = .failure(error)
            }
            self.finish(result)
        }
        let timer = eventLoop.scheduleTask(in: TimeAmount(limit)) { self.finish(.failure(expired())) }
        let finishedMeanwhile = state.withLock { state in
            state.work = work
            state.timer = timer
            return state.finished
        }
        if finishedMeanwhile {
            work.cancel()
            timer.cancel()
        }
    }

    /// Answers the caller once, and stops what is left: the timer, or the work.
    private func finish(_ result: Result<Value, any Error>) {
        let (continuation, work, timer) = state.withLock { state in
            guard !state.finished else { return (nil as CheckedContinuation<Value, any Error>?, nil as Task<Void, Never>?, nil as Scheduled<Void>?) }
            state.finished = true
            defer { state.continuation = nil }
            return (state.continuation, state.work, state.timer)
        }
        timer?.cancel()
        if case .failure = result { work?.cancel() }
        continuation?.resume(with: result)
    }
}
