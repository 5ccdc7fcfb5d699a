import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import SidecarCore

/// Fetches URL attachments over HTTP/1.1 through the SSRF guard: the host is resolved once
/// and vetted by a ``DestinationResolver``; the connection goes to the vetted addresses
/// only (each tried in turn with its own connect timeout) while TLS uses the host name for
/// SNI and certificate verification. No redirect is followed, only 2xx is accepted, and
/// the body is capped by Content-Length and while streaming.
///
/// Fetch before connecting to the SMTP server, so a failed fetch sends nothing.
public struct AttachmentFetcher: Sendable {
    public let configuration: AttachmentFetchConfiguration
    public let destinations: DestinationResolver
    let eventLoopGroup: any EventLoopGroup
    let threadPool: NIOThreadPool
    let tlsContext: NIOSSLContext
    let logger: Logger

    /// Builds the TLS context (loads the trust store): do it once, at start-up, off any
    /// event loop.
    public init(
        configuration: AttachmentFetchConfiguration = AttachmentFetchConfiguration(),
        destinations: DestinationResolver,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        threadPool: NIOThreadPool = .singleton,
        logger: Logger = Logger(label: "smtp-sidecar.egress")
    ) throws {
        self.configuration = configuration
        self.destinations = destinations
        self.eventLoopGroup = eventLoopGroup
        self.threadPool = threadPool
        self.tlsContext = try EgressTLS.clientContext(additionalCAPEM: configuration.additionalCAPEM)
        self.logger = logger
    }

    /// Fetches one attachment.
    ///
    /// - Parameters:
    ///   - url: the URL from the request.
    ///   - name: how the attachment is named in errors (its filename, or "attachment 2").
    ///   - field: the request field, e.g. `params.attachments[1].url`.
    ///   - requestDeadline: the deadline of the request the fetch is for: the fetch ends by
    ///     then, its connection closed, whatever its own time limits would allow.
    /// - Throws: `destination_forbidden` from the guard; `request_timeout` when
    ///   `requestDeadline` passed; otherwise `attachment_fetch_failed` naming the attachment
    ///   and the reason.
    public func fetch(
        _ url: String, name: String, field: String, deadline requestDeadline: NIODeadline? = nil
    ) async throws(SidecarError) -> FetchedAttachment {
        let overall = NIODeadline.now() + configuration.overallTimeout
        let byRequest = requestDeadline.map { $0 < overall } ?? false
        let deadline = byRequest ? requestDeadline! : overall
        let failure = FetchFailureReporter(name: name, field: field, deadlineIsRequests: byRequest)
        let parsed: AttachmentURL
        do throws(AttachmentURL.Failure) {
            parsed = try AttachmentURL(url)
        } catch {
            throw failure.error("the URL \(error)", retryable: false)
        }
        let destination: VettedDestination
        do throws(SidecarError) {
            destination = try await destinations.vet(host: parsed.host, port: parsed.port, field: field)
        } catch where error.code == .destinationForbidden {
            throw SidecarError(
                code: .destinationForbidden,
                message: "Attachment \"\(failure.shownName)\": \(error.message)",
                field: field
            )
        } catch {
            throw failure.error(error.message, retryable: error.retryable)
        }
        let channel = try await connect(to: destination, url: parsed, deadline: deadline, failure: failure)
        return try await exchange(on: channel, url: parsed, deadline: deadline, failure: failure)
    }

    // MARK: - Connecting

    private func connect(
        to destination: VettedDestination,
        url: AttachmentURL,
        deadline: NIODeadline,
        failure: FetchFailureReporter
    ) async throws(SidecarError) -> EgressHTTPChannel {
        let connector = EgressConnector(
            eventLoopGroup: eventLoopGroup, connectTimeout: configuration.connectTimeout,
            idleReadTimeout: configuration.idleReadTimeout, logger: logger)
        do {
            return try await connector.connect(
                to: destination, url: url, tlsContext: url.scheme == .https ? tlsContext : nil, deadline: deadline)
        } catch {
            switch error {
            case .deadlinePassed: throw failure.timedOut(url, overall: true)
            case .connectTimedOut: throw failure.error("connecting to \(url.hostHeader) timed out", retryable: true)
            case .failed: throw failure.error("could not connect to \(url.hostHeader)", retryable: true)
            }
        }
    }

    // MARK: - The exchange

    private func exchange(
        on channel: EgressHTTPChannel,
        url: AttachmentURL,
        deadline: NIODeadline,
        failure: FetchFailureReporter
    ) async throws(SidecarError) -> FetchedAttachment {
        let raw = channel.channel
        let timer = raw.eventLoop.scheduleTask(deadline: deadline) {
            raw.pipeline.fireErrorCaught(FetchTimeout.overall)
            raw.close(promise: nil)
        }
        defer { timer.cancel() }
        do {
            return try await channel.executeThenClose { inbound, outbound in
                var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: url.target)
                head.headers.add(name: "Host", value: url.hostHeader)
                head.headers.add(name: "User-Agent", value: configuration.userAgent)
                head.headers.add(name: "Accept", value: "*/*")
                head.headers.add(name: "Accept-Encoding", value: "identity")
                head.headers.add(name: "Connection", value: "close")
                do {
                    try await outbound.write(.head(head))
                    try await outbound.write(.end(nil))
                } catch {
                    // A write fails with "closed channel" when the TLS handshake or the
                    // connection failed first; the inbound side carries that real cause.
                    for try await _ in inbound {}
                    throw error
                }
                return try await receive(inbound, url: url, failure: failure)
            }
        } catch let error as SidecarError {
            throw error
        } catch {
            throw failure.channelError(error, url: url)
        }
    }

    private func receive(
        _ inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>,
        url: AttachmentURL,
        failure: FetchFailureReporter
    ) async throws -> FetchedAttachment {
        var parts = inbound.makeAsyncIterator()
        guard case .head(let head) = try await parts.next() else {
            throw failure.error("the server at \(url.hostHeader) closed the connection without answering", retryable: true)
        }
        try failure.checkStatus(head, url: url)
        let declared = head.headers["Content-Length"].first.flatMap { Int($0.filter { $0 != " " && $0 != "\t" }) }
        if let declared, declared > configuration.maxBytes {
            throw failure.tooLarge(limit: configuration.maxBytes, declared: declared)
        }
        let file: SpoolFile
        do {
            file = try await threadPool.runIfActive { [directory = configuration.temporaryDirectory] in
                try SpoolFile(directory: directory)
            }
        } catch {
            logger.error("cannot create attachment spool file", metadata: ["error": "\(error)"])
            throw SidecarError(code: .internalError, message: "The sidecar could not store the attachment.", retryable: true)
        }
        var size = 0
        while let part = try await parts.next() {
            switch part {
            case .head:
                throw failure.error("the server at \(url.hostHeader) sent a malformed response", retryable: true)
            case .body(let buffer):
                let offset = size
                size += buffer.readableBytes
                guard size <= configuration.maxBytes else {
                    throw failure.tooLarge(limit: configuration.maxBytes, declared: nil)
                }
                try await threadPool.runIfActive {
                    try buffer.withUnsafeReadableBytes { try file.write($0, at: offset) }
                }
            case .end:
                if let declared, declared != size {
                    throw failure.error("the body ended after \(size) of \(declared) bytes", retryable: true)
                }
                logger.debug("attachment fetched", metadata: ["attachment_bytes": "\(size)"])
                return FetchedAttachment(
                    size: size,
                    contentType: head.headers["Content-Type"].first,
                    file: file,
                    threadPool: threadPool
                )
            }
        }
        throw failure.error("the connection closed before the body was complete", retryable: true)
    }
}
