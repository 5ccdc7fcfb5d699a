import Logging
import SidecarCore
import SidecarProtocol

/// Routes each operation to its implementation: `hello`, `ping` and `stats` here; `send`
/// and `verify` to the handler given for them (the SMTP engine), or `not_implemented`.
public struct OperationRouter: RequestHandler {
    public var limits: HelloResult.Limits
    public var serverVersion: String
    public var stats: ServerStats
    public var mailHandler: (any RequestHandler)?
    /// The connection pools' counters, when pooling is on.
    public var poolStatistics: (@Sendable () -> [StatsResult.Pool])?

    public init(
        limits: HelloResult.Limits, serverVersion: String, stats: ServerStats, mailHandler: (any RequestHandler)? = nil,
        poolStatistics: (@Sendable () -> [StatsResult.Pool])? = nil
    ) {
        self.limits = limits
        self.serverVersion = serverVersion
        self.stats = stats
        self.mailHandler = mailHandler
        self.poolStatistics = poolStatistics
    }

    public func handle(_ request: Request, context: RequestContext) async -> Response.Outcome {
        switch request.operation {
        case .hello(let params):
            guard let version = ProtocolVersion.negotiate(clientVersions: params.versions) else {
                let offered = (params.versions ?? []).map(String.init).joined(separator: ", ")
                let supported = ProtocolVersion.supported.map(String.init).joined(separator: ", ")
                return .failure(SidecarError(
                    code: .unsupportedVersion,
                    message: "No common protocol version: the client offered [\(offered)], this server speaks [\(supported)].",
                    field: "params.versions"))
            }
            if let client = params.client {
                context.logger.debug("Client said hello", metadata: ["client": "\(client.prefix(128))"])
            }
            return .success(HelloResult(
                version: version, server: "smtp-sidecar", serverVersion: serverVersion,
                operations: availableOperations.map(\.rawValue), limits: limits))
        case .ping(let params):
            if let delay = params.delayMs {
                guard (0...PingParams.maxDelayMs).contains(delay) else {
                    return .failure(SidecarError(
                        code: .invalidParams, message: "delay_ms must be between 0 and \(PingParams.maxDelayMs).",
                        field: "params.delay_ms"))
                }
                try? await Task.sleep(for: .milliseconds(delay))
            }
            return .success(PingResult(data: params.data))
        case .stats:
            var snapshot = stats.snapshot()
            snapshot.pools = poolStatistics?()
            return .success(snapshot)
        case .send, .verify:
            guard let mailHandler else {
                return .failure(SidecarError(
                    code: .notImplemented,
                    message: "The \"\(request.operation.name.rawValue)\" operation is not available in this build."))
            }
            return await mailHandler.handle(request, context: context)
        }
    }

    var availableOperations: [OperationName] {
        mailHandler == nil ? [.hello, .ping, .stats] : OperationName.allCases
    }
}
