import Logging
import SidecarProtocol

/// What a request handler knows about the request's origin.
package struct RequestContext: Sendable {
    package var connectionID: Int
    package var peer: PeerCredentials?
    package var logger: Logger

    package init(connectionID: Int, peer: PeerCredentials?, logger: Logger) {
        self.connectionID = connectionID
        self.peer = peer
        self.logger = logger
    }
}

/// Answers decoded requests. The seam between the protocol server and the operations
/// (the SMTP engine plugs in here).
package protocol RequestHandler: Sendable {
    func handle(_ request: Request, context: RequestContext) async -> Response.Outcome
}
