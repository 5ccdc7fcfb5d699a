import FoundationEssentials
import Logging
import SidecarCore
import SidecarEgress
import SidecarState

/// Builds the send policy's services from the configuration, failing start-up with a
/// clear message when something is misconfigured.
enum PolicySetup {
    static func egressPolicy(_ configuration: MailConfiguration) throws(SidecarError) -> EgressPolicy {
        var cidrs: [CIDR] = []
        for entry in configuration.egressAllowedCIDRs {
            guard let cidr = CIDR(entry) else {
                throw SidecarError(
                    code: .invalidConfiguration, message: "egress_allowed_cidrs: \"\(entry)\" is not a CIDR like 10.0.0.0/8.")
            }
            cidrs.append(cidr)
        }
        return EgressPolicy(allowedCIDRs: cidrs)
    }

    /// The state database in the state directory, created if missing (mode 0700).
    static func database(_ configuration: MailConfiguration) throws(SidecarError) -> StateDatabase {
        do {
            try FileManager.default.createDirectory(
                atPath: configuration.stateDirectory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
            return try StateDatabase(stateDirectory: configuration.stateDirectory)
        } catch {
            throw SidecarError(
                code: .invalidConfiguration,
                message: "Cannot open the state database in \(configuration.stateDirectory) (state_directory): "
                    + (SidecarError(state: error).map { "\($0)" } ?? "\(error)"))
        }
    }

    /// The credential key: `credential_key_file`, else the systemd credential, else none.
    static func credentialKey(_ configuration: MailConfiguration) throws(SidecarError) -> CredentialKey? {
        do {
            if let path = configuration.credentialKeyFile {
                return try CredentialKey.load(fromFile: path)
            }
            let directory = ProcessInfo.processInfo.environment["CREDENTIALS_DIRECTORY"] ?? ""
            guard !directory.isEmpty,
                FileManager.default.fileExists(atPath: "\(directory)/\(CredentialKey.systemdCredentialName)")
            else { return nil }
            return try CredentialKey.fromSystemdCredentials()
        } catch {
            throw SidecarError(
                code: .invalidConfiguration,
                message: "Cannot load the credential key: \(SidecarError(state: error).map { "\($0)" } ?? "\(error)")")
        }
    }

    static func policy(_ configuration: MailConfiguration, logger: Logger) throws(SidecarError) -> MailPolicy {
        let destinations = DestinationResolver(
            policy: try egressPolicy(configuration), resolver: CachingHostNameResolver(SystemHostNameResolver()), logger: logger)
        let fetcher: AttachmentFetcher
        do {
            fetcher = try AttachmentFetcher(configuration: configuration.attachments, destinations: destinations, logger: logger)
        } catch {
            throw SidecarError(code: .invalidConfiguration, message: "Cannot set up attachment fetching: \(error)")
        }
        let database = try database(configuration)
        let credentials = try credentialKey(configuration).map { CredentialStore(database: database, key: $0) }
        let oauth = try credentials.map { store throws(SidecarError) in
            try tokenBroker(configuration, destinations: destinations, store: store, logger: logger)
        }
        return MailPolicy(
            destinations: destinations, fetcher: fetcher, dedup: DedupStore(database: database),
            defaultDedupWindow: .seconds(configuration.dedupWindowSeconds), rateLimiter: RateLimiter(database: database),
            credentials: credentials, oauth: oauth)
    }

    /// The token broker of stored OAuth credentials: its token client goes through the same
    /// guard as everything else, and a refresh token the endpoint rotates is stored.
    static func tokenBroker(
        _ configuration: MailConfiguration, destinations: DestinationResolver, store: CredentialStore, logger: Logger
    ) throws(SidecarError) -> OAuthTokenBroker {
        let client: OAuthTokenClient
        do {
            client = try OAuthTokenClient(configuration: configuration.oauthTokens, destinations: destinations, logger: logger)
        } catch {
            throw SidecarError(code: .invalidConfiguration, message: "Cannot set up OAuth token requests: \(error)")
        }
        return OAuthTokenBroker(
            fetch: { request throws(OAuthTokenError) in try await client.requestToken(request) },
            onRotation: { key, used, renewed in
                do {
                    try store.replaceRefreshToken(
                        id: key.credentialID, workspace: key.workspace, previous: used, with: renewed, now: Date())
                } catch {
                    logger.error("Storing a rotated refresh token failed; the next refresh uses it from memory", metadata: [
                        "credential_id": "\(key.credentialID)", "workspace_id": "\(key.workspace)",
                        "error": "\(SidecarError(state: error).map { "\($0.message)" } ?? "the credential store failed")",
                    ])
                }
            },
            onRefresh: { key, outcome in
                let now = Date()
                var expires: Date?
                var failure: String?
                switch outcome {
                case .success(let lifetime): expires = now.addingTimeInterval(Double(lifetime.components.seconds))
                case .failure(let error): failure = SidecarError(error).message
                }
                do {
                    try store.recordTokenRefresh(
                        id: key.credentialID, workspace: key.workspace, expires: expires, failure: failure, now: now)
                } catch {
                    logger.warning("Recording a token refresh for credentials list failed", metadata: [
                        "credential_id": "\(key.credentialID)", "workspace_id": "\(key.workspace)",
                    ])
                }
            },
            logger: logger)
    }
}
