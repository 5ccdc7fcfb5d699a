import Foundation
import SidecarClient
import SidecarTestSupport

/// One file a server delivered into its Maildir: one message for one recipient.
struct InteropDelivery: Sendable {
    let path: String
    let raw: Data

    /// The envelope recipient the server delivered to: the first `Delivered-To` of the
    /// header section (every server of the harness adds one).
    var deliveredTo: String? { headerValues("Delivered-To").first }

    /// The header section as delivered, unfolded lines kept as they are.
    var headerSection: String {
        let text = String(decoding: raw.prefix(256 * 1024), as: UTF8.self)
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n")
        return normalized.components(separatedBy: "\n\n").first ?? normalized
    }

    /// The values of every header field named `name` in the header section.
    func headerValues(_ name: String) -> [String] {
        let prefix = name.lowercased() + ":"
        return headerSection.split(separator: "\n").compactMap { line in
            guard line.lowercased().hasPrefix(prefix) else { return nil }
            return line.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)
        }
    }

    /// Whether the delivered bytes contain `text` (UTF-8).
    func contains(_ text: String) -> Bool {
        raw.range(of: Data(text.utf8)) != nil
    }

    /// The message as Python's `email` package reads it (Tests/SidecarMessageTests/
    /// Fixtures/parse_message.py): headers decoded, addresses parsed, every part decoded.
    func parsed() async throws -> JSONValue {
        let parser = try TestEnvironment.repositoryRoot()
            .appendingPathComponent("Tests/SidecarMessageTests/Fixtures/parse_message.py").path
        let outcome = try await ChildProcess.run("/bin/sh", ["-c", "python3 '\(parser)' < '\(path)'"])
        guard outcome.status == 0 else { throw TestEnvironmentError("parse_message.py \(path): \(outcome.summary)") }
        return try JSONValue.parse(Data(outcome.stdout.utf8))
    }

    /// The leaf parts of a parsed message's structure, depth first.
    static func leaves(_ structure: JSONValue?) -> [JSONValue] {
        guard let structure else { return [] }
        if case .array(let parts) = structure["parts"] { return parts.flatMap { leaves($0) } }
        return [structure]
    }

    /// A leaf's decoded payload.
    static func payload(_ leaf: JSONValue) -> Data {
        Data(base64Encoded: leaf["payload_base64"]?.string ?? "") ?? Data()
    }

    /// A leaf's decoded text with line breaks as LF: the servers store messages with LF
    /// (Exim, chasquid, OpenSMTPD, Postfix) or CRLF (aiosmtpd), as they received them.
    static func text(_ leaf: JSONValue) -> String {
        String(decoding: payload(leaf), as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
    }
}
