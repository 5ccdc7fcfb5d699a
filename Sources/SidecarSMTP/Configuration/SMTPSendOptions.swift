/// Per-message options for ``SMTPConnection/send(_:options:deadline:)``.
public struct SMTPSendOptions: Sendable, Hashable {
    /// Delivery status notifications (RFC 3461); sent only when the server offers DSN.
    public var dsn: SMTPDSNOptions?

    public init(dsn: SMTPDSNOptions? = nil) {
        self.dsn = dsn
    }
}

/// RFC 3461 parameters: NOTIFY on every RCPT, RET and ENVID on MAIL.
public struct SMTPDSNOptions: Sendable, Hashable {
    public enum Notify: String, Sendable, Hashable, CaseIterable {
        case success = "SUCCESS"
        case failure = "FAILURE"
        case delay = "DELAY"
    }

    public enum Return: String, Sendable, Hashable {
        case full = "FULL"
        case headers = "HDRS"
    }

    /// Empty set: NOTIFY=NEVER. nil: no NOTIFY parameter.
    public var notify: Set<Notify>?
    public var ret: Return?
    /// The envelope id; xtext-encoded on the wire.
    public var envelopeID: String?

    public init(notify: Set<Notify>? = nil, ret: Return? = nil, envelopeID: String? = nil) {
        self.notify = notify
        self.ret = ret
        self.envelopeID = envelopeID
    }

    var mailParameters: [String] {
        var parameters: [String] = []
        if let ret { parameters.append("RET=\(ret.rawValue)") }
        if let envelopeID { parameters.append("ENVID=\(Self.xtext(envelopeID))") }
        return parameters
    }

    var rcptParameters: [String] {
        guard let notify else { return [] }
        if notify.isEmpty { return ["NOTIFY=NEVER"] }
        let ordered = Notify.allCases.filter(notify.contains).map(\.rawValue)
        return ["NOTIFY=\(ordered.joined(separator: ","))"]
    }

    /// RFC 3461 §4: bytes outside `!`..`~`, and `+` and `=`, as `+XX`.
    static func xtext(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            if byte >= 33 && byte <= 126 && byte != UInt8(ascii: "+") && byte != UInt8(ascii: "=") {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                out += "+" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }
}
