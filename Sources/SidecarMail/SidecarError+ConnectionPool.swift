import SidecarCore
import SidecarPool

extension SidecarError {
    /// The pool's refusal, worded for the user: the one place pool failures become wire
    /// errors.
    init(_ error: ConnectionPoolError) {
        switch error.code {
        case .busy:
            self.init(
                code: .poolBusy,
                message: "All connections for this account were busy for the whole wait limit; try again shortly.",
                retryable: true)
        case .connectionNotReady:
            self.init(
                code: .timeout,
                message: "The server did not finish setting up a connection (connect, TLS, greeting or login) within "
                    + "the wait limit (pool_max_wait_seconds). Nothing was sent; try again later.",
                retryable: true)
        case .deadlineExceeded:
            self.init(
                code: .requestTimeout,
                message: "The time allowed for this request (timeout_ms) ran out before a connection to the server was ready. "
                    + "Nothing was sent; try again later or allow more time.",
                retryable: true)
        case .shuttingDown:
            self.init(
                code: .shuttingDown,
                message: "The sidecar is shutting down; send the request again once it is back.",
                retryable: true)
        case .missingContext:
            self.init(code: .internalError, message: "No connection settings for a pooled connection.")
        }
    }
}
