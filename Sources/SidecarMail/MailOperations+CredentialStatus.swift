import FoundationEssentials
import Logging
import SidecarCore
import SidecarProtocol
import SidecarState

extension MailOperations {
    /// `credential_status`: each stored credential (of one workspace, or the one named) with
    /// its last success and failure on this daemon, what is used of its limits, its pools and
    /// its OAuth token's expiry. Never a secret: the sealed payload is opened only to read
    /// the credential's limits.
    ///
    /// - Parameter pools: the warm connections of each credential's pools, by workspace and
    ///   credential id (empty when pooling is off).
    public func credentialStatus(
        _ params: CredentialStatusParams, pools: [TransportRoute: CredentialStatusResult.Pool], logger: Logger
    ) async -> Response.Outcome {
        let now = Date()
        var listed: [CredentialMetadata] = []
        if let store = policy.credentials {
            do {
                listed = try await store.list(workspace: params.workspaceID)
            } catch {
                let failure =
                    SidecarError(state: error) ?? SidecarError(code: .internalError, message: "The credential store could not be read.")
                metrics.stateFailed(failure)
                return .failure(failure)
            }
        }
        if let id = params.credentialID {
            listed = listed.filter { $0.id == id }
            if listed.isEmpty {
                return .failure(SidecarError(
                    code: .credentialNotFound,
                    message: params.workspaceID == nil
                        ? "No stored credential \"\(id.prefix(128))\"." : "No stored credential \"\(id.prefix(128))\" in this workspace.",
                    field: "params.credential_id"))
            }
        }
        let complete = params.workspaceID == nil && params.credentialID == nil
        let health = health.entries(
            everyStored: complete ? Set(listed.map { CredentialHealth.Key(workspace: $0.workspace, id: $0.id) }) : nil)
        var credentials: [CredentialStatusResult.Credential] = []
        for metadata in listed.sorted(by: { ($0.workspace, $0.id) < ($1.workspace, $1.id) }) {
            var status = CredentialStatusResult.Credential(
                id: metadata.id, workspaceID: metadata.workspace, label: metadata.label, host: metadata.host,
                port: metadata.port, username: metadata.username)
            if let entry = health[CredentialHealth.Key(workspace: metadata.workspace, id: metadata.id)] {
                status.lastSuccessAt = entry.lastSuccess.map(Self.timestamp)
                status.lastError = entry.lastFailure.map {
                    CredentialStatusResult.LastError(code: $0.code.rawValue, at: Self.timestamp($0.at), message: $0.message)
                }
            }
            status.quota = await quota(of: metadata, now: now, logger: logger)
            status.pool = pools[TransportRoute(workspaceID: metadata.workspace, credentialID: metadata.id)] ?? .init()
            if let token = metadata.token {
                status.token = CredentialStatusResult.Token(
                    expiresAt: token.expires.map(Self.timestamp), lastRefreshError: token.lastError)
            }
            credentials.append(status)
        }
        return .success(CredentialStatusResult(credentials: credentials))
    }

    /// The credential's limits with what is used of them, read without counting, and a
    /// provider's spent-quota mark. Empty when this daemon keeps no rate counters; what
    /// cannot be read is logged and left out, so that one credential does not hide the others.
    private func quota(of metadata: CredentialMetadata, now: Date, logger: Logger) async -> CredentialStatusResult.Quota {
        var quota = CredentialStatusResult.Quota()
        guard let limiter = policy.rateLimiter, let store = policy.credentials else { return quota }
        let key = SendParams.rateKey(workspace: metadata.workspace, identity: metadata.id)
        quota.exhaustedUntil = limiter.exhaustion(key: key, now: now).map { Self.timestamp($0.until) }
        do {
            let stored = try await store.storedCredential(id: metadata.id, workspace: metadata.workspace)
            guard let limits = try stored.params.limits?.rateLimits() else { return quota }
            let usage = try await limiter.usage(key: key, limits: limits, now: now)
            quota.rate = usage.rate.map(Self.window)
            quota.daily = usage.daily.map(Self.window)
        } catch {
            logger.warning("A stored credential's rate limits could not be read for its status", metadata: [
                "workspace_id": "\(metadata.workspace)", "credential_id": "\(metadata.id)",
                "error": "\((SidecarError(state: error) ?? SidecarError(code: .internalError, message: "\(type(of: error))")).message)",
            ])
        }
        return quota
    }

    private static func window(_ window: RateUsage.Window) -> CredentialStatusResult.Window {
        CredentialStatusResult.Window(
            used: window.used, limit: window.limit, periodMs: Int(window.period.wholeMilliseconds),
            resetsAt: timestamp(window.resetsAt))
    }

    static func timestamp(_ date: Date) -> String {
        RFC3339Timestamp.string(millisecondsSince1970: date.millisecondsSince1970)
    }
}
