import FoundationEssentials
import NIOCore
import SidecarCore
import SidecarEgress
import SidecarPool
import SidecarStatePostgres

extension MailConfiguration {
    /// Sets the mail engine's configuration key `key` (its part of the executable's key
    /// table; every key is documented in `packaging/smtp-sidecar.conf`), filling in the
    /// pool's and the fetcher's own configurations.
    ///
    /// - Parameter source: where the setting came from, for the error ("smtp-sidecar.conf:12").
    /// - Returns: false when `key` is not one of the mail engine's, which is left unchanged.
    /// - Throws: `invalid_configuration` naming the key and `source` when the value is bad.
    public mutating func apply(key: String, value: String, source: String) throws(SidecarError) -> Bool {
        switch key {
        case "smtp_client_name":
            guard value.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
                throw ConfigurationValue.invalid(
                    "\(source): smtp_client_name must be a host name or an address literal like [192.0.2.1]")
            }
            smtpClientName = value.isEmpty ? nil : value
        case "pool_enabled":
            guard let flag = ["true": true, "yes": true, "1": true, "false": false, "no": false, "0": false][value.lowercased()]
            else { throw ConfigurationValue.invalid("\(source): pool_enabled must be true or false") }
            poolEnabled = flag
        case "pool_max_connections_per_key":
            pool.maxConnectionsPerPool = try ConfigurationValue.positive(value, key, source)
        case "pool_max_connections":
            pool.maxConnectionsTotal = try ConfigurationValue.positive(value, key, source)
        case "pool_max_connections_per_workspace":
            poolMaxConnectionsPerWorkspace = value.isEmpty ? nil : try ConfigurationValue.positive(value, key, source)
        case "pool_max_connections_per_server":
            poolMaxConnectionsPerServer = value.isEmpty ? nil : try ConfigurationValue.positive(value, key, source)
        case "pool_max_wait_seconds":
            pool.maxWait = .seconds(try ConfigurationValue.positive(value, key, source))
        case "pool_idle_timeout_seconds":
            pool.idleTimeout = .seconds(try ConfigurationValue.positive(value, key, source))
        case "pool_max_connection_age_seconds":
            pool.maxConnectionAge = .seconds(try ConfigurationValue.positive(value, key, source))
        case "pool_max_messages_per_connection":
            pool.maxUsesPerConnection = try ConfigurationValue.positive(value, key, source)
        case "pool_check_after_idle_seconds":
            pool.checkAfterIdle = .seconds(try ConfigurationValue.positive(value, key, source))
        case "egress_allowed_cidrs":
            egressAllowedCIDRs = ConfigurationValue.list(value)
        case "dedup_window_seconds":
            guard let seconds = Int(value), seconds >= 0 else {
                throw ConfigurationValue.invalid("\(source): dedup_window_seconds must be 0 or more")
            }
            dedupWindowSeconds = seconds
        case "state_purge_interval_seconds":
            let seconds = try ConfigurationValue.positive(value, key, source)
            guard seconds <= 86_400 else {
                throw ConfigurationValue.invalid("\(source): state_purge_interval_seconds must be at most 86400 (a day)")
            }
            statePurgeIntervalSeconds = seconds
        case "credential_key_file":
            credentialKeyFile = value.isEmpty ? nil : value
        case "attachment_max_bytes":
            attachments.maxBytes = try ConfigurationValue.positive(value, key, source)
        case "attachment_timeout_seconds":
            attachments.idleReadTimeout = .seconds(Int64(try ConfigurationValue.positive(value, key, source)))
        case "oauth_token_ca_file":
            if value.isEmpty {
                oauthTokens.additionalCAPEM = nil
            } else {
                guard let pem = try? String(contentsOfFile: value, encoding: .utf8), pem.contains("-----BEGIN CERTIFICATE-----") else {
                    throw ConfigurationValue.invalid("\(source): oauth_token_ca_file \(value) is not a readable PEM certificate file")
                }
                oauthTokens.additionalCAPEM = pem
            }
        case "state_backend":
            guard let backend = StateBackend(rawValue: value.lowercased()) else {
                throw ConfigurationValue.invalid("\(source): state_backend must be sqlite or postgres")
            }
            stateBackend = backend
        case "postgres_url":
            postgres.url = value.isEmpty ? nil : value
        case "postgres_password_file":
            postgres.passwordFile = value.isEmpty ? nil : value
        case "postgres_pool_size":
            postgres.poolSize = try ConfigurationValue.positive(value, key, source)
        case "postgres_statement_timeout_ms":
            postgres.statementTimeoutMs = try ConfigurationValue.positive(value, key, source)
        case "postgres_table_prefix":
            guard PostgresStateConfiguration.isValidTablePrefix(value) else {
                throw ConfigurationValue.invalid(
                    "\(source): postgres_table_prefix must be at most 30 of a-z, 0-9 and _, not starting with a digit")
            }
            postgres.tablePrefix = value
        case "state_lease_seconds":
            postgres.leaseSeconds = try ConfigurationValue.positive(value, key, source)
        case "state_fail_open":
            guard let flag = ["true": true, "yes": true, "1": true, "false": false, "no": false, "0": false][value.lowercased()]
            else { throw ConfigurationValue.invalid("\(source): state_fail_open must be true or false") }
            stateFailOpen = flag
        case "state_directory":
            guard value.hasPrefix("/") else { throw ConfigurationValue.invalid("\(source): state_directory must be absolute") }
            stateDirectory = value
        default:
            return false
        }
        return true
    }
}
