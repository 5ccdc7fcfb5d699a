/// The shared database's table names, with the configured prefix.
struct PostgresTables: Sendable {
    let schemaVersion: String
    let dedup: String
    let rateBucket: String
    let rateMinute: String
    let rateExhausted: String
    let credential: String
    let credentialToken: String
    /// Whether these are the default names, whose statements are prepared.
    let isDefault: Bool

    init(prefix: String) {
        isDefault = prefix == PostgresStateConfiguration.defaultTablePrefix
        schemaVersion = prefix + "schema_version"
        dedup = prefix + "dedup"
        rateBucket = prefix + "rate_bucket"
        rateMinute = prefix + "rate_minute"
        rateExhausted = prefix + "rate_exhausted"
        credential = prefix + "credential"
        credentialToken = prefix + "credential_token"
    }
}
