// Errors about the wire protocol itself and the daemon serving it.
extension ErrorCode {
    /// A frame's declared length exceeds the server's `max_frame_bytes`. The frame is not
    /// buffered; the server answers in-flight requests, sends this error and closes.
    public static let frameTooLarge = ErrorCode("frame_too_large")
    /// The connection ended in the middle of a frame.
    public static let truncatedFrame = ErrorCode("truncated_frame")
    /// The frame's payload is not valid UTF-8 JSON (this includes an empty payload).
    public static let invalidJSON = ErrorCode("invalid_json")
    /// The frame's payload is valid JSON but not a JSON object.
    public static let notAnObject = ErrorCode("not_an_object")
    /// The request has no `id`, or the `id` is not a string of 1-128 characters or an integer.
    public static let missingID = ErrorCode("missing_id")
    /// The request's `id` equals the id of a request still in flight on this connection.
    public static let duplicateID = ErrorCode("duplicate_id")
    /// The request's `op` is missing or names no operation this server knows.
    public static let unknownOperation = ErrorCode("unknown_operation")
    /// The request's `params` are missing a required field or have a field of the wrong type.
    public static let invalidParams = ErrorCode("invalid_params")
    /// `hello` offered no protocol version this server speaks.
    public static let unsupportedVersion = ErrorCode("unsupported_version")
    /// The connecting process's uid/gid (SO_PEERCRED) is not allowed by the configuration.
    public static let peerNotAllowed = ErrorCode("peer_not_allowed")
    /// The server is at `max_connections`; retry later.
    public static let tooManyConnections = ErrorCode("too_many_connections")
    /// The server is shutting down and takes no new requests; retry against the next instance.
    public static let shuttingDown = ErrorCode("shutting_down")
    /// The operation exists in the protocol but this server build does not implement it yet.
    public static let notImplemented = ErrorCode("not_implemented")
    /// The request's overall deadline (`timeout_ms`) passed before it completed.
    public static let requestTimeout = ErrorCode("request_timeout")
    /// The daemon's configuration (file, environment or flags) is invalid. Not sent on the
    /// wire; the daemon exits with it at start-up.
    public static let invalidConfiguration = ErrorCode("invalid_configuration")
    /// A bug or an unexpected failure inside the sidecar. The message says no more than that.
    public static let internalError = ErrorCode("internal_error")
    /// The shared state database (a fleet's PostgreSQL) cannot be reached, or did not answer
    /// in time: nothing was sent.
    public static let stateUnavailable = ErrorCode("state_unavailable")

    public static let protocolCodes: [ErrorCode] = [
        .frameTooLarge, .truncatedFrame, .invalidJSON, .notAnObject, .missingID, .duplicateID,
        .unknownOperation, .invalidParams, .unsupportedVersion, .peerNotAllowed, .tooManyConnections,
        .shuttingDown, .notImplemented, .requestTimeout, .invalidConfiguration, .internalError,
        .stateUnavailable,
    ]
}
