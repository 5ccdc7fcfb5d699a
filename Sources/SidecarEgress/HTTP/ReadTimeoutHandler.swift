import NIOCore

/// Why a fetch was cut short by a timer.
enum FetchTimeout: Error, Sendable, Hashable {
    /// No byte arrived for the idle read timeout.
    case idle
    /// The overall deadline passed.
    case overall
}

/// Turns `IdleStateHandler`'s read-idle event into an error, so the fetch's inbound stream
/// ends with ``FetchTimeout/idle``, and closes the channel.
final class ReadTimeoutHandler: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            context.fireErrorCaught(FetchTimeout.idle)
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
