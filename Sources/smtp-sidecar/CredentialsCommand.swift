import ArgumentParser
import FoundationEssentials
import SidecarCore
import SidecarMail
import SidecarProtocol

/// `smtp-sidecar credentials …`: the daemon's encrypted credential store, edited in place
/// (run as the daemon's user, with its configuration and key).
struct CredentialsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credentials",
        abstract: "Manage stored SMTP credentials (encrypted with AES-256-GCM).",
        discussion: """
            Records live in the state database (state_directory), or with state_backend = postgres in
            the shared database every host reads, and are sealed under the key in
            credential_key_file or the systemd credential smtp-sidecar.key. Each belongs to one
            workspace; a request from another workspace cannot use it. `list` and `status` never print
            a secret; `status` asks the running daemon (--socket), the others edit the store. Passwords
            and tokens are read from an environment variable, never from the command line.
            """,
        subcommands: [Add.self, List.self, Remove.self, Rotate.self, Status.self, GenerateKey.self])

    /// The configuration and key options shared by the subcommands.
    struct StoreOptions: ParsableArguments {
        @Option(name: .shortAndLong, help: "Configuration file (default \(ServeCommand.defaultConfigPath), if it exists).")
        var config: String?

        @Option(help: "State directory (overrides the configuration).")
        var stateDirectory: String?

        @Option(help: "Key file (overrides credential_key_file).")
        var keyFile: String?

        func store() throws -> CredentialAdministration {
            var serve = try ServeCommand.parse(config.map { ["--config", $0] } ?? [])
            if let stateDirectory { serve.settings.append("state_directory=\(stateDirectory)") }
            if let keyFile { serve.settings.append("credential_key_file=\(keyFile)") }
            let configuration = try serve.configurationOrFailure().mail
            guard let store = try CredentialAdministration(configuration: configuration) else {
                throw CLIFailure("No credential key: set credential_key_file, pass --key-file, or run with the systemd credential.")
            }
            return store
        }
    }

    /// The credential's fields.
    struct SecretOptions: ParsableArguments {
        @Option(help: "SMTP host (with --oauth google or microsoft: smtp.gmail.com or smtp.office365.com).") var host: String?
        @Option(help: "SMTP port.") var port: Int?
        @Option(help: "tls, starttls or none.") var security: CredentialParams.Security?
        @Option(help: "Username.") var username: String?
        @Option(help: "Environment variable holding the password.") var passwordEnv: String = "SMTP_PASSWORD"
        @Option(help: "Environment variable holding an OAuth 2 token instead.") var tokenEnv: String?
        @Option(help: "auto, plain, login, xoauth2, oauthbearer or none.") var auth: CredentialParams.AuthMechanism?
        @Option(help: "EHLO name.") var clientName: String?
        @Option(help: "PEM file of extra trusted CA certificates (corporate relays).") var caFile: String?
        @Flag(help: "Accept self-signed or mismatched certificates.") var acceptUnverified = false
        @Flag(help: "Never use PIPELINING with this server, even when offered.") var noPipelining = false
        @Flag(help: "Never use CHUNKING (BDAT) with this server, even when offered.") var noChunking = false
        @Option(help: "Close a pooled connection after this many messages (1-10000; default: the daemon's, 10 for Exim).")
        var maxMessagesPerConnection: Int?
        @Option(help: "Get access tokens from this provider's token endpoint: google, microsoft or custom.")
        var oauth: String?
        @Option(help: "OAuth: the app's client id.") var clientID: String?
        @Option(help: "OAuth: environment variable holding the app's client secret.") var clientSecretEnv: String?
        @Option(help: "OAuth: environment variable holding the user's refresh token (delegated flow).")
        var refreshTokenEnv: String?
        @Option(help: "OAuth, microsoft: the tenant (domain or id) the app is registered in.") var tenant: String?
        @Flag(help: "OAuth, microsoft: app-only access (client credentials), sending as --username.")
        var clientCredentials = false
        @Option(help: "OAuth: the token endpoint (required for custom; replaces the provider's).") var tokenURL: String?
        @Option(help: "OAuth: the scopes, space-separated (default: the provider's for SMTP).") var scope: String?

        /// The credential, and its OAuth settings when it gets its tokens itself.
        func credential() throws -> (CredentialParams, OAuthSettings?) {
            guard let oauth else {
                guard host != nil else { throw CLIFailure("--host is required (or --oauth google|microsoft).") }
                return (try self.secret(), nil)
            }
            guard let provider = OAuthSettings.Provider(rawValue: oauth) else {
                throw CLIFailure("--oauth must be google, microsoft or custom.")
            }
            guard tokenEnv == nil else {
                throw CLIFailure("An OAuth credential gets its own tokens: give no --token-env.")
            }
            let environment = ProcessInfo.processInfo.environment
            func fromEnvironment(_ variable: String?, _ option: String) throws -> Secret? {
                guard let variable else { return nil }
                guard let value = environment[variable], !value.isEmpty else {
                    throw CLIFailure("\(option): the environment variable \(variable) is not set.")
                }
                return Secret(value)
            }
            let settings = try OAuthSettings(
                provider: provider, clientID: clientID ?? "", clientSecret: try fromEnvironment(clientSecretEnv, "--client-secret-env"),
                refreshToken: try fromEnvironment(refreshTokenEnv, "--refresh-token-env"), clientCredentials: clientCredentials,
                tenant: tenant, tokenURL: tokenURL, scope: scope)
            guard let host = host ?? settings.defaultHost else { throw CLIFailure("--host is required with --oauth custom.") }
            guard username?.isEmpty == false else {
                throw CLIFailure("--username is required: the mailbox the tokens are for (or, app-only, that the app sends as).")
            }
            var params = try self.secret(host: host, password: false)
            params.auth = params.auth ?? .auto
            return (params, settings)
        }

        func secret(host: String? = nil, password readPassword: Bool = true) throws -> CredentialParams {
            if let maxMessagesPerConnection, !RequestBounds.messagesPerConnection.contains(maxMessagesPerConnection) {
                throw CLIFailure("--max-messages-per-connection must be between 1 and 10000.")
            }
            let environment = ProcessInfo.processInfo.environment
            var tls: CredentialParams.TLSOptions?
            if caFile != nil || acceptUnverified {
                tls = CredentialParams.TLSOptions(
                    acceptUnverified: acceptUnverified ? true : nil,
                    caPEM: try caFile.map { try String(contentsOfFile: $0, encoding: .utf8) })
            }
            return CredentialParams(
                host: host ?? self.host ?? "", port: port, security: security,
                username: username, password: readPassword ? environment[passwordEnv].map(Secret.init) : nil,
                accessToken: tokenEnv.flatMap { environment[$0] }.map(Secret.init),
                auth: auth, tls: tls,
                clientName: clientName, pipelining: noPipelining ? false : nil, chunking: noChunking ? false : nil,
                maxMessagesPerConnection: maxMessagesPerConnection)
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Store a credential for a workspace.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Workspace the credential belongs to.") var workspace: String
        @Option(help: "Credential id (default: generated).") var id: String?
        @Option(help: "A label for people.") var label: String = ""
        @OptionGroup var secret: SecretOptions
        @OptionGroup var limits: LimitOptions

        func run() async throws {
            var (credential, oauth) = try secret.credential()
            if case .set(let limits) = try limits.change() { credential.limits = limits }
            let metadata = try await store.store().add(
                workspace: workspace, label: label, credential: credential, oauth: oauth, id: id, now: Date())
            print("stored \(metadata.id) for workspace \(metadata.workspace) (\(metadata.host))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List stored credentials (never their secrets).")
        @OptionGroup var store: StoreOptions
        @Option(help: "Only this workspace.") var workspace: String?

        func run() async throws {
            for entry in try await store.store().list(workspace: workspace) {
                var token = "-"
                if let error = entry.lastRefreshError {
                    token = "token refresh failed: \(error)"
                } else if let expires = entry.tokenExpires {
                    token = "token expires \(expires.formatted(.iso8601))"
                }
                let limits = entry.opened ? "limits \(CredentialParams.Limits.listed(entry.limits))" : "limits ? (record does not open)"
                print([entry.workspace, entry.id, entry.label, "\(entry.host):\(entry.port.map(String.init) ?? "-")",
                       entry.username ?? "-", token, limits].joined(separator: "\t"))
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a stored credential.")
        @OptionGroup var store: StoreOptions
        @Option var workspace: String
        @Option var id: String

        func run() async throws {
            try await store.store().remove(id: id, workspace: workspace)
            print("removed \(id)")
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a stored credential's fields and secret.",
            discussion: "Its rate limits stay as stored unless a limit flag is given (the flags given replace them all) or --no-limits.")
        @OptionGroup var store: StoreOptions
        @Option var workspace: String
        @Option var id: String
        @OptionGroup var secret: SecretOptions
        @OptionGroup var limits: LimitOptions

        func run() async throws {
            var (credential, oauth) = try secret.credential()
            let change = try limits.change()
            if case .set(let limits) = change { credential.limits = limits }
            try await store.store().rotate(
                id: id, workspace: workspace, credential: credential, oauth: oauth, keepingLimits: change == .unchanged, now: Date())
            print("rotated \(id)")
        }
    }

    struct GenerateKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate-key", abstract: "Write a new random 256-bit key file (mode 0600; never overwrites).")
        @Argument(help: "Where to write the key.") var path: String

        func run() throws {
            let key = try CredentialAdministration.generateKeyFile(at: path)
            print("wrote \(path) (\(key))")
        }
    }
}
