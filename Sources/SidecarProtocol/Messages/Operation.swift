/// The operations of protocol version 1, by their wire name (`op`).
public enum OperationName: String, Sendable, CaseIterable, Codable {
    case hello
    case ping
    case stats
    case send
    case verify
    case metrics
    case credentialStatus = "credential_status"
}

/// A decoded request's operation with its parameters.
public enum Operation: Sendable, Equatable {
    case hello(HelloParams)
    case ping(PingParams)
    case stats
    case send(SendParams)
    case verify(VerifyParams)
    case metrics
    case credentialStatus(CredentialStatusParams)

    public var name: OperationName {
        switch self {
        case .hello: .hello
        case .ping: .ping
        case .stats: .stats
        case .send: .send
        case .verify: .verify
        case .metrics: .metrics
        case .credentialStatus: .credentialStatus
        }
    }
}
