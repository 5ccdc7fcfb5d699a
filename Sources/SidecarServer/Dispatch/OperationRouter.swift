import Logging
import SidecarCore
import SidecarProtocol

/// Routes each operation to its implementation: `hello`, `ping`, `stats` and `metrics` here;
/// `send`, `verify` and `credential_status` to the ``MailRoutes`` given (the mail engine), or
/// `not_implemented`.
public struct OperationRouter: RequestHandler {
    public var limits: HelloResult.Limits
    public var serverVersion: String
    public var stats: ServerStats
    public var mail: MailRoutes?
    /// The connection pools' counters, when pooling is on.
    public var poolStatistics: (@Sendable () -> [StatsResult.Pool])?
    /// The state store's backend and health for `stats`.
    public var stateStatus: (@Sendable () -> StatsResult.StateStore)?
    /// Renders the metrics registry as Prometheus text, for `metrics`; the executable owns
    /// the registry. Without it, `metrics` is not served.
    public var metricsText: (@Sendable () -> String)?

    public init(
        limits: HelloResult.Limits, serverVersion: String, stats: ServerStats, mail: MailRoutes? = nil,
        poolStatistics: (@Sendable () -> [StatsResult.Pool])? = nil,
        stateStatus: (@Sendable () -> StatsResult.StateStore)? = nil,
        metricsText: (@Sendable () -> String)? = nil
    ) {
        self.limits = limits
        self.serverVersion = serverVersion
        self.stats = stats
        self.mail = mail
        self.poolStatistics = poolStatistics
        self.stateStatus = stateStatus
        self.metricsText = metricsText
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
            snapshot.state = stateStatus?()
            return .success(snapshot)
        case .metrics:
            guard let metricsText else { return notImplemented(request.operation.name) }
            return .success(MetricsResult(text: metricsText()))
        case .send(let params):
            guard let mail else { return notImplemented(request.operation.name) }
            return await mail.send(params, context)
        case .verify(let params):
            guard let mail else { return notImplemented(request.operation.name) }
            return await mail.verify(params, context)
        case .credentialStatus(let params):
            guard let credentialStatus = mail?.credentialStatus else { return notImplemented(request.operation.name) }
            return await credentialStatus(params, context)
        }
    }

    private func notImplemented(_ name: OperationName) -> Response.Outcome {
        .failure(SidecarError(
            code: .notImplemented, message: "The \"\(name.rawValue)\" operation is not available in this build."))
    }

    var availableOperations: [OperationName] {
        OperationName.allCases.filter { name in
            switch name {
            case .hello, .ping, .stats: true
            case .send, .verify: mail != nil
            case .metrics: metricsText != nil
            case .credentialStatus: mail?.credentialStatus != nil
            }
        }
    }
}
