import SidecarCore

/// A failure of the shared state database, as a coded value. Its text never holds a bound
/// value or the password: PostgreSQL's own message names tables and constraints only.
public struct PostgresStateError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// The database cannot be reached, refused the connection, went away, or did not
        /// answer within the statement timeout: retryable, and nothing was sent.
        case unavailable
        /// The database answered with an error (SQLSTATE): a bug, or a schema changed by hand.
        case failed(sqlState: String)
        /// The schema was migrated by a newer build than this one.
        case schemaTooNew(found: Int, known: Int)
        /// The schema is older than this build's and the daemon was told not to migrate it.
        case schemaTooOld(found: Int, known: Int)
        /// The configuration cannot be used (a `postgres_url` that is no PostgreSQL URL, or
        /// one that holds a password).
        case invalidConfiguration
    }

    public let code: Code
    /// What happened, for the journal and the error's message.
    public let detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var isUnavailable: Bool { code == .unavailable }

    public var description: String {
        switch code {
        case .unavailable: "the shared state database is unavailable: \(detail)"
        case .failed(let sqlState): "the shared state database failed (SQLSTATE \(sqlState)): \(detail)"
        case .schemaTooNew(let found, let known):
            "the shared state database has schema version \(found), newer than this build's \(known)"
        case .schemaTooOld(let found, let known):
            "the shared state database has schema version \(found), older than this build's \(known): "
                + "run smtp-sidecar state migrate"
        case .invalidConfiguration: detail
        }
    }
}
