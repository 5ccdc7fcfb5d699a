import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// An HTTP/1.1 client channel of the egress paths.
typealias EgressHTTPChannel = NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>

/// Opens the HTTP/1.1 connections of every egress path (URL attachments, OAuth token
/// endpoints) to a destination the SSRF guard vetted: to its vetted addresses only, each
/// tried in turn with its own connect timeout, TLS verified against the URL's host name
/// (also the SNI), and a read that stays silent for the idle timeout ends the channel with
/// ``FetchTimeout/idle``.
struct EgressConnector: Sendable {
    /// Why no connection was made.
    enum Failure: Error, Sendable {
        /// The caller's deadline passed before a connection was made.
        case deadlinePassed
        /// The last address tried did not answer within the connect timeout.
        case connectTimedOut
        /// Every address refused or failed.
        case failed
    }

    let eventLoopGroup: any EventLoopGroup
    let connectTimeout: TimeAmount
    let idleReadTimeout: TimeAmount
    let logger: Logger

    /// Connects to `destination` for `url`; `tlsContext` for https.
    func connect(
        to destination: VettedDestination, url: AttachmentURL, tlsContext: NIOSSLContext?, deadline: NIODeadline
    ) async throws(Failure) -> EgressHTTPChannel {
        let serverName: String?
        switch HostLiteral(url.host) {
        case .name(let name): serverName = name
        case .address, .obfuscatedIPv4, .invalidNumeric, .invalid: serverName = nil
        }
        let idleReadTimeout = idleReadTimeout
        var lastError: (any Error)?
        for address in destination.addresses {
            let remaining = deadline - .now()
            guard remaining > .zero else { throw .deadlinePassed }
            let bootstrap = ClientBootstrap(group: eventLoopGroup).connectTimeout(min(connectTimeout, remaining))
            do {
                return try await bootstrap.connect(to: address) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        if let tlsContext {
                            try pipeline.addHandler(NIOSSLClientHandler(context: tlsContext, serverHostname: serverName))
                        }
                        try pipeline.addHTTPClientHandlers()
                        try pipeline.addHandler(IdleStateHandler(readTimeout: idleReadTimeout))
                        try pipeline.addHandler(ReadTimeoutHandler())
                        return try EgressHTTPChannel(wrappingChannelSynchronously: channel)
                    }
                }
            } catch {
                logger.debug("egress connect attempt failed", metadata: ["egress_address": "\(address)", "error": "\(error)"])
                lastError = error
            }
        }
        if deadline <= .now() { throw .deadlinePassed }
        if let lastError, case ChannelError.connectTimeout = lastError { throw .connectTimedOut }
        throw .failed
    }
}
