import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import SidecarCore

/// Asks OAuth 2.0 token endpoints for access tokens, through the SSRF guard like every
/// other egress: the endpoint's host is resolved once and vetted by the
/// ``DestinationResolver``, the connection goes to the vetted addresses only, TLS 1.2+ is
/// verified against the host name, no redirect is followed, and the request is bounded by
/// its own timeouts and the caller's deadline. Nothing of the request's secrets or of the
/// granted token is logged.
public struct OAuthTokenClient: Sendable {
    public let configuration: OAuthTokenClientConfiguration
    let destinations: DestinationResolver
    let connector: EgressConnector
    let tlsContext: NIOSSLContext
    let logger: Logger

    /// Builds the TLS context (loads the trust store): once, at start-up, off any event loop.
    public init(
        configuration: OAuthTokenClientConfiguration = OAuthTokenClientConfiguration(),
        destinations: DestinationResolver,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "smtp-sidecar.oauth")
    ) throws {
        self.configuration = configuration
        self.destinations = destinations
        self.connector = EgressConnector(
            eventLoopGroup: eventLoopGroup, connectTimeout: configuration.connectTimeout,
            idleReadTimeout: configuration.idleReadTimeout, logger: logger)
        self.tlsContext = try EgressTLS.clientContext(additionalCAPEM: configuration.additionalCAPEM)
        self.logger = logger
    }

    /// Requests a token; ends by `deadline` (and the configuration's overall timeout).
    public func requestToken(_ request: OAuthTokenRequest, deadline requestDeadline: NIODeadline? = nil)
        async throws(OAuthTokenError) -> OAuthTokenGrant
    {
        let overall = NIODeadline.now() + configuration.overallTimeout
        let deadline = requestDeadline.map { min($0, overall) } ?? overall
        let url: AttachmentURL
        do throws(AttachmentURL.Failure) {
            url = try AttachmentURL(request.url)
        } catch {
            throw OAuthTokenError(.forbidden, "the token endpoint URL \(error)", retryable: false)
        }
        let endpoint = "the token endpoint \(url.redacted)"
        guard url.scheme == .https else {
            throw OAuthTokenError(.forbidden, "\(endpoint) is not https; tokens are only requested over TLS", retryable: false)
        }
        let destination: VettedDestination
        do throws(SidecarError) {
            destination = try await destinations.vet(host: url.host, port: url.port, field: "token_url")
        } catch {
            let code: OAuthTokenError.Code = error.code == .destinationForbidden ? .forbidden : .unavailable
            throw OAuthTokenError(code, "\(endpoint): \(error.message)", retryable: error.retryable)
        }
        let channel: EgressHTTPChannel
        do {
            channel = try await connector.connect(to: destination, url: url, tlsContext: tlsContext, deadline: deadline)
        } catch {
            switch error {
            case .deadlinePassed: throw OAuthTokenError(.timedOut, "\(endpoint) could not be reached in time", retryable: true)
            case .connectTimedOut: throw OAuthTokenError(.timedOut, "connecting to \(endpoint) timed out", retryable: true)
            case .failed: throw OAuthTokenError(.unavailable, "\(endpoint) could not be reached", retryable: true)
            }
        }
        let (status, body) = try await exchange(request, on: channel, url: url, endpoint: endpoint, deadline: deadline)
        let result = OAuthTokenResponse.read(status: status, body: body, secrets: request.secrets, endpoint: endpoint)
        logger.debug("token endpoint answered", metadata: [
            "oauth_endpoint": "\(url.redacted)", "http_status": "\(status)",
            "oauth_outcome": "\((try? result.get()) == nil ? "refused" : "granted")",
        ])
        return try result.get()
    }

    private func exchange(
        _ request: OAuthTokenRequest, on channel: EgressHTTPChannel, url: AttachmentURL, endpoint: String,
        deadline: NIODeadline
    ) async throws(OAuthTokenError) -> (Int, [UInt8]) {
        let raw = channel.channel
        let timer = raw.eventLoop.scheduleTask(deadline: deadline) {
            raw.pipeline.fireErrorCaught(FetchTimeout.overall)
            raw.close(promise: nil)
        }
        defer { timer.cancel() }
        let maxBytes = configuration.maxResponseBytes
        do {
            return try await channel.executeThenClose { inbound, outbound in
                let body = request.formBody
                var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: url.target)
                head.headers.add(name: "Host", value: url.hostHeader)
                head.headers.add(name: "User-Agent", value: configuration.userAgent)
                head.headers.add(name: "Accept", value: "application/json")
                head.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                head.headers.add(name: "Content-Length", value: "\(body.count)")
                head.headers.add(name: "Connection", value: "close")
                do {
                    try await outbound.write(.head(head))
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
                    try await outbound.write(.end(nil))
                } catch {
                    // A write fails with "closed channel" when the TLS handshake or the
                    // connection failed first; the inbound side carries that real cause.
                    for try await _ in inbound {}
                    throw error
                }
                var status: Int?
                var received: [UInt8] = []
                for try await part in inbound {
                    switch part {
                    case .head(let head):
                        status = Int(head.status.code)
                    case .body(let buffer):
                        guard received.count + buffer.readableBytes <= maxBytes else {
                            throw OAuthTokenError(.malformed, "\(endpoint) answered more than \(maxBytes) bytes", retryable: false)
                        }
                        received += buffer.readableBytesView
                    case .end:
                        guard let status else { break }
                        return (status, received)
                    }
                }
                throw OAuthTokenError(.unavailable, "\(endpoint) closed the connection without a complete answer", retryable: true)
            }
        } catch let error as OAuthTokenError {
            throw error
        } catch FetchTimeout.overall {
            throw OAuthTokenError(.timedOut, "\(endpoint) did not answer in time", retryable: true)
        } catch FetchTimeout.idle {
            throw OAuthTokenError(.timedOut, "\(endpoint) stopped answering (read timed out)", retryable: true)
        } catch {
            switch EgressTLS.failure(error) {
            case .wrongName?:
                throw OAuthTokenError(.unavailable, "the TLS certificate of \(endpoint) is not valid for its name", retryable: false)
            case .untrusted?:
                throw OAuthTokenError(.unavailable, "the TLS certificate of \(endpoint) is not trusted", retryable: false)
            case .handshake?:
                throw OAuthTokenError(.unavailable, "the TLS connection to \(endpoint) failed", retryable: true)
            case nil:
                throw OAuthTokenError(.unavailable, "the connection to \(endpoint) failed", retryable: true)
            }
        }
    }
}
