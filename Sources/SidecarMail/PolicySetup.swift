import FoundationEssentials
import Logging
import SidecarCore
import SidecarEgress
import SidecarState
import SidecarStatePostgres

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

    /// The shared database of `state_backend = postgres`: its URL, and its password from
    /// `postgres_password_file`, else the systemd credential `smtp-sidecar.postgres-password`.
    static func postgres(_ configuration: MailConfiguration) throws(SidecarError) -> PostgresStateConfiguration {
        let settings = configuration.postgres
        guard let url = settings.url else {
            throw SidecarError(code: .invalidConfiguration, message: "state_backend = postgres needs postgres_url.")
        }
        var passwordPath = settings.passwordFile
        if passwordPath == nil, let directory = ProcessInfo.processInfo.environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty {
            let path = "\(directory)/\(postgresPasswordCredential)"
            if FileManager.default.fileExists(atPath: path) { passwordPath = path }
        }
        var password: Secret?
        if let passwordPath {
            guard let data = FileManager.default.contents(atPath: passwordPath) else {
                throw SidecarError(
                    code: .invalidConfiguration, message: "Cannot read the PostgreSQL password file \(passwordPath).")
            }
            // One line; a trailing newline (echo > file) is not part of it.
            var text = String(decoding: data, as: UTF8.self)
            while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
            password = Secret(text)
        }
        do {
            var postgres = try PostgresStateConfiguration(url: url, password: password)
            postgres.poolSize = settings.poolSize
            postgres.statementTimeout = .milliseconds(settings.statementTimeoutMs)
            postgres.tablePrefix = settings.tablePrefix
            postgres.lease = .seconds(settings.leaseSeconds)
            return postgres
        } catch {
            throw SidecarError(code: .invalidConfiguration, message: error.description)
        }
    }

    /// The systemd credential that holds the shared database's password.
    static let postgresPasswordCredential = "smtp-sidecar.postgres-password"

    /// The duplicate-suppression and rate-limit stores of the configured backend, and the
    /// shared database behind them, if any.
    static func stateStores(
        _ configuration: MailConfiguration, database: StateDatabase, logger: Logger
    ) throws(SidecarError) -> (
        dedup: any DedupStoring, rateLimiter: any RateLimiting, credentials: (any CredentialStoring)?, shared: SharedState?
    ) {
        let key = try credentialKey(configuration)
        switch configuration.stateBackend {
        case .sqlite:
            return (
                DedupStore(database: database), RateLimiter(database: database),
                key.map { CredentialStore(database: database, key: $0) }, nil
            )
        case .postgres:
            let state = PostgresState(configuration: try postgres(configuration), logger: logger)
            let shared = SharedState(
                state: state, dedup: PostgresDedupStore(state: state), rateLimiter: PostgresRateLimiter(state: state))
            // Stored credentials are the fleet's too (sealed under the key every host has).
            let credentials = key.map { PostgresCredentialStore(state: state, key: $0) }
            guard configuration.stateFailOpen else { return (shared.dedup, shared.rateLimiter, credentials, shared) }
            return (
                FailOpenDedupStore(shared: shared.dedup, local: DedupStore(database: database), logger: logger),
                FailOpenRateLimiter(shared: shared.rateLimiter, local: RateLimiter(database: database), logger: logger),
                credentials, shared
            )
        }
    }

    static func policy(
        _ configuration: MailConfiguration, logger: Logger
    ) throws(SidecarError) -> (policy: MailPolicy, shared: SharedState?) {
        let destinations = DestinationResolver(
            policy: try egressPolicy(configuration), resolver: CachingHostNameResolver(SystemHostNameResolver()), logger: logger)
        let fetcher: AttachmentFetcher
        do {
            fetcher = try AttachmentFetcher(configuration: configuration.attachments, destinations: destinations, logger: logger)
        } catch {
            throw SidecarError(code: .invalidConfiguration, message: "Cannot set up attachment fetching: \(error)")
        }
        let database = try database(configuration)
        let stores = try stateStores(configuration, database: database, logger: logger)
        let credentials = stores.credentials
        let oauth = try credentials.map { store throws(SidecarError) in
            try tokenBroker(configuration, destinations: destinations, store: store, logger: logger)
        }
        let policy = MailPolicy(
            destinations: destinations, fetcher: fetcher, dedup: stores.dedup,
            defaultDedupWindow: .seconds(configuration.dedupWindowSeconds), rateLimiter: stores.rateLimiter,
            credentials: credentials, oauth: oauth)
        return (policy, stores.shared)
    }

    /// The token broker of stored OAuth credentials: its token client goes through the same
    /// guard as everything else, and a refresh token the endpoint rotates is stored.
    static func tokenBroker(
        _ configuration: MailConfiguration, destinations: DestinationResolver, store: any CredentialStoring, logger: Logger
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
                    try await store.replaceRefreshToken(
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
                    try await store.recordTokenRefresh(
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
