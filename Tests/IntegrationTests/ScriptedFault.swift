import SidecarCore
import SidecarProtocol
import Testing

/// One case of the hostile server's script: the fault it plays and the answer the daemon
/// owes for it under proto-spec/ (the error `code`, the `result.phase`, the `outcome`:
/// `outcome_unknown` exactly when the whole message went out and no final reply came,
/// `not_sent` otherwise).
struct ScriptedFault: Sendable, CustomTestStringConvertible {
    /// `POINT:ACTION` for `hostile_smtp.py --fault`.
    var fault: String
    var chunking = false
    var auth: CredentialParams.AuthMechanism? = nil
    /// Bytes of an attachment that makes the message larger than the socket buffers, so a
    /// mid-body fault comes while the daemon is still writing.
    var attachmentBytes = 0
    var serverArguments: [String] = []
    var timeoutMs = 10_000
    /// The error codes allowed (one, but for races the spec leaves open, stated per case).
    var codes: Set<ErrorCode>
    var phase: String
    var outcome: SendResult.Outcome = .notSent

    /// A stall (or a reply that never ends) before the session is ready for MAIL.
    var isSetupStall: Bool {
        let parts = fault.split(separator: ":").map(String.init)
        return ["greeting", "ehlo", "starttls", "tls", "auth"].contains(parts[0])
            && (parts[1] == "stall" || parts[1] == "unterminated-stall")
    }

    var testDescription: String {
        fault + (chunking ? " +CHUNKING" : "") + (auth.map { " auth=\($0.rawValue)" } ?? "")
    }

    /// A stall is cut by the request's deadline: short, to keep each case at seconds.
    static let stallMs = 1500

    static func at(_ fault: String, _ code: ErrorCode, phase: String, outcome: SendResult.Outcome = .notSent) -> ScriptedFault {
        ScriptedFault(
            fault: fault, timeoutMs: fault.hasSuffix(":stall") ? stallMs : 10_000, codes: [code], phase: phase, outcome: outcome)
    }

    func with(_ change: (inout ScriptedFault) -> Void) -> ScriptedFault {
        var copy = self
        change(&copy)
        return copy
    }
}
