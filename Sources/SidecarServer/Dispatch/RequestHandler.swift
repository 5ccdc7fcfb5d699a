import Logging
import SidecarProtocol

/// What a request handler knows about the request's origin.
public struct RequestContext: Sendable {
    public var connectionID: Int
    public var peer: PeerCredentials?
    public var logger: Logger

    public init(connectionID: Int, peer: PeerCredentials?, logger: Logger) {
        self.connectionID = connectionID
        self.peer = peer
        self.logger = logger
    }
}

/// Answers decoded requests. The seam between the protocol server and the operations
/// (the SMTP engine plugs in here).
public protocol RequestHandler: Sendable {
    func handle(_ request: Request, context: RequestContext) async -> Response.Outcome
}
