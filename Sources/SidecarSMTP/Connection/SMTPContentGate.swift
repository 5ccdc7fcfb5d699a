import SidecarCore

/// Work that must be done before a message's content may leave, run while the server
/// reads the envelope, or before the envelope leaves: see
/// ``SMTPConnection/send(_:recipients:options:deadline:beforeContent:gateFirst:)``.
/// The daemon's is the duplicate-suppression record's "may have been sent" mark.
public typealias SMTPContentGate = @Sendable () async throws(SidecarError) -> Void
