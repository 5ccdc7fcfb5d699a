import Logging
import NIOCore
import SidecarCore
import SidecarProtocol
import Synchronization

/// The I/O shell around one client connection's ``ConnectionStateMachine``: reads frames,
/// runs requests concurrently up to the in-flight limit, writes each response as soon as it
/// is ready, and closes as the state machine says. Every error stays inside this
/// connection.
final class ClientConnection: Sendable {
    /// Outbound is `Never`: responses are written with `writeAndFlush` so each write can be
    /// awaited until it reaches the kernel, and there is no async writer that would trap if
    /// a connection accepted during shutdown is dropped unserved.
    typealias Channel = NIOAsyncChannel<InboundFrame, Never>

    struct Locked {
        var machine: ConnectionStateMachine
        /// The reader, suspended because every request slot is taken.
        var readerWaiting: CheckedContinuation<Void, Never>?
    }

    let id: Int
    let channel: Channel
    let peer: PeerCredentials?
    let handler: any RequestHandler
    let stats: ServerStats
    let logger: Logger
    private let locked: Mutex<Locked>
    private let decoder = RequestDecoder()
    /// Where frames of at least `bytes` are decoded and their requests handled, off the
    /// event loop (``SidecarServer/Settings/largeRequestExecutor``).
    let largeRequests: (executor: any TaskExecutor, bytes: Int)?

    init(
        id: Int, channel: Channel, peer: PeerCredentials?, maxInFlight: Int, idleTimeout: Duration,
        handler: any RequestHandler, stats: ServerStats, logger: Logger,
        largeRequests: (executor: any TaskExecutor, bytes: Int)? = nil
    ) {
        self.largeRequests = largeRequests
        self.id = id
        self.channel = channel
        self.peer = peer
        self.handler = handler
        self.stats = stats
        self.logger = logger
        self.locked = Mutex(Locked(
            machine: ConnectionStateMachine(maxInFlight: maxInFlight, idleTimeout: idleTimeout, now: .now)))
    }

    /// Serves the connection until it closes. Never throws: a broken client is logged and
    /// closed, and nobody else notices.
    func run() async {
        do {
            try await channel.executeThenClose { inbound, _ in
                await withTaskGroup(of: Void.self) { watchdog in
                    watchdog.addTask { await self.runIdleTimer() }
                    await self.readRequests(inbound)
                    watchdog.cancelAll()
                }
            }
        } catch {
            logger.debug("Client connection ended with an error", metadata: ["error": "\(error)"])
        }
    }

    /// Asks the connection to finish what it is doing and close (daemon shutdown).
    func shutdown() {
        let action = locked.withLock { $0.machine.shutdownRequested() }
        perform(action)
    }

    // MARK: Reading

    private func readRequests(_ inbound: NIOAsyncChannelInboundStream<InboundFrame>) async {
        // Discarding: a plain task group keeps every finished child until it is awaited,
        // which on a long-lived connection is memory that grows with every request.
        await withDiscardingTaskGroup { requests in
            var frames = inbound.makeAsyncIterator()
            while true {
                await waitForFreeSlot()
                if locked.withLock({ $0.machine.readingIsOver }) { break }
                let frame: InboundFrame?
                do {
                    frame = try await frames.next()
                } catch {
                    logger.debug("Reading from the client failed", metadata: ["error": "\(error)"])
                    frame = nil
                }
                guard let frame else {
                    perform(locked.withLock { $0.machine.inputClosed() })
                    break
                }
                locked.withLock { $0.machine.frameReceived(now: .now) }
                switch frame {
                case .payload(let payload):
                    if let largeRequests, payload.readableBytes >= largeRequests.bytes {
                        // Decoded in order (the reader waits), but off the loop.
                        let decoded = await withTaskExecutorPreference(largeRequests.executor) { [decoder] in
                            decoder.decode(payload)
                        }
                        accept(decoded, executor: largeRequests.executor, into: &requests)
                    } else {
                        accept(decoder.decode(payload), executor: nil, into: &requests)
                    }
                case .oversized(let declared, let limit):
                    logger.warning(
                        "Client sent a frame over the size limit; closing the connection",
                        metadata: ["frame_bytes": "\(declared)", "max_frame_bytes": "\(limit)"])
                    let error = SidecarError(
                        code: .frameTooLarge,
                        message: "The frame announces \(declared) bytes, more than this server's limit of \(limit) bytes. "
                            + "The connection is closed once earlier requests are answered.")
                    requests.addTask { await self.write(.failure(id: nil, error), operation: "unknown") }
                    perform(locked.withLock { $0.machine.framingBroke() })
                case .truncated(let received, let expected):
                    logger.info(
                        "Client closed the connection in the middle of a frame",
                        metadata: ["received_bytes": "\(received)", "expected_bytes": "\(expected)"])
                    let error = SidecarError(
                        code: .truncatedFrame,
                        message: "The connection ended after \(received) of the frame's \(expected) bytes.")
                    requests.addTask { await self.write(.failure(id: nil, error), operation: "unknown") }
                    perform(locked.withLock { $0.machine.framingBroke() })
                }
            }
        }
    }

    /// `executor`: where the request is handled (nil: where the connection runs).
    private func accept(
        _ decoded: Result<Request, RequestDecodingFailure>, executor: (any TaskExecutor)?,
        into requests: inout DiscardingTaskGroup
    ) {
        switch decoded {
        case .failure(let failure):
            logger.info(
                "Refused a malformed request",
                metadata: ["error_code": "\(failure.error.code)", "request_id": "\(failure.id?.description ?? "")"])
            // The answer holds a slot until written, like a request (backpressure).
            locked.withLock { $0.machine.frameRefused() }
            requests.addTask { await self.writeRefusal(.failure(id: failure.id, failure.error), operation: "unknown") }
        case .success(let request):
            let operation = request.operation.name.rawValue
            switch locked.withLock({ $0.machine.requestDecoded(request.id) }) {
            case .dispatch:
                stats.requestStarted()
                requests.addTask(executorPreference: executor) {
                    var requestLogger = self.logger
                    requestLogger.handler.metadata.merge(["request_id": "\(request.id)", "operation": "\(operation)"]) {
                        _, new in new
                    }
                    let context = RequestContext(connectionID: self.id, peer: self.peer, logger: requestLogger)
                    let outcome = await self.handler.handle(request, context: context)
                    await self.write(Response(id: request.id, outcome: outcome), operation: operation)
                    self.stats.requestFinished()
                    let action = self.locked.withLock { $0.machine.requestCompleted(request.id, now: .now) }
                    self.perform(action)
                }
            case .rejectDuplicateID:
                // Answered with `id: null`: echoing the id would make this answer
                // indistinguishable from the answer to the request in flight with that id.
                let error = SidecarError(
                    code: .duplicateID,
                    message: "A request with id \(Self.quoted(request.id)) is still in flight on this connection; "
                        + "ids must be unique among requests in flight. This request was not run.",
                    field: "id")
                requests.addTask { await self.writeRefusal(.failure(id: nil, error), operation: operation) }
            case .rejectShuttingDown:
                let error = SidecarError(
                    code: .shuttingDown, message: "The sidecar is shutting down and takes no new requests. Retry shortly.",
                    retryable: true)
                requests.addTask { await self.writeRefusal(.failure(id: request.id, error), operation: operation) }
            }
        }
    }

    /// Writes a refusal's answer, then frees the slot it held.
    private func writeRefusal(_ response: Response, operation: String) async {
        await write(response, operation: operation)
        let action = locked.withLock { $0.machine.refusalAnswered(now: .now) }
        perform(action)
    }

    /// An id as JSON shows it: a string quoted (at most 128 code points), an integer bare.
    static func quoted(_ id: RequestID) -> String {
        switch id {
        case .string(let value): "\"\(value)\""
        case .integer(let value): String(value)
        }
    }

    /// Writes one response and waits until it has been handed to the kernel, so a
    /// connection never closes with an answer still queued in user space.
    private func write(_ response: Response, operation: String) async {
        stats.answered(operation: operation, result: response.error?.code.rawValue ?? "ok")
        do {
            try await channel.channel.writeAndFlush(response.frame(allocator: channel.channel.allocator))
        } catch {
            logger.debug(
                "Could not write a response; the client is gone",
                metadata: ["request_id": "\(response.id?.description ?? "")", "error": "\(error)"])
        }
    }

    // MARK: Backpressure and closing

    private func waitForFreeSlot() async {
        // Usually a slot is free: no continuation to allocate.
        if locked.withLock({ $0.machine.mayReadNextFrame || $0.machine.readingIsOver }) { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = locked.withLock { locked -> Bool in
                if locked.machine.mayReadNextFrame || locked.machine.readingIsOver { return true }
                locked.readerWaiting = continuation
                return false
            }
            if ready { continuation.resume() }
        }
    }

    private func resumeReader() {
        let waiting = locked.withLock { locked -> CheckedContinuation<Void, Never>? in
            defer { locked.readerWaiting = nil }
            return locked.readerWaiting
        }
        waiting?.resume()
    }

    private func perform(_ action: ConnectionStateMachine.CompletionAction) {
        switch action {
        case .none: break
        case .resumeReading: resumeReader()
        case .close: closeInput()
        }
    }

    private func perform(_ action: ConnectionStateMachine.CloseAction) {
        switch action {
        case .none: break
        case .closeInputNow: closeInput()
        case .closeWhenDrained: resumeReader()
        }
    }

    /// Ends the inbound stream so the reader returns; responses in flight are still written,
    /// and `executeThenClose` closes the whole channel after them.
    private func closeInput() {
        resumeReader()
        channel.channel.close(mode: .input, promise: nil)
    }

    private func runIdleTimer() async {
        var next = ContinuousClock.now + locked.withLock { $0.machine.idleTimeout }
        while !Task.isCancelled {
            do {
                try await Task.sleep(until: next, clock: .continuous)
            } catch {
                return
            }
            switch locked.withLock({ $0.machine.idleTimerFired(now: .now) }) {
            case .close:
                logger.info("Closing an idle client connection")
                closeInput()
                return
            case .checkAgain(let instant):
                next = instant
            case .stop:
                return
            }
        }
    }
}
