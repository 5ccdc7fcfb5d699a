import SidecarCore

extension SendResult {
    /// Reads a result back from the JSON its ``writeJSON(to:)`` wrote (the dedup store keeps
    /// a send's result as that text and replays it to identical sends), with the protocol's
    /// own parser. Throws an `internal_error` for text it did not write.
    public init(json text: String) throws(SidecarError) {
        var text = text
        let node: JSONNode
        do {
            node = try text.withUTF8 { bytes in try JSONParser.parse(UnsafeRawBufferPointer(bytes)) }
        } catch {
            throw Self.unreadable
        }
        do {
            let reader = try ParamsReader(node, path: "result")
            guard let outcome = try reader.value("outcome", as: Outcome.self) else { throw Self.unreadable }
            self.init(
                outcome: outcome, messageID: try reader.string("message_id"),
                smtp: try reader.object("smtp").map(Self.reply), phase: try reader.string("phase"),
                recipients: try reader.array("recipients") { (node, path) throws(SidecarError) in
                    let recipient = try ParamsReader(node, path: path)
                    guard let address = try recipient.string("address"), let accepted = try recipient.bool("accepted")
                    else { throw Self.unreadable }
                    return Recipient(address: address, accepted: accepted, smtp: try recipient.object("smtp").map(Self.reply))
                } ?? [],
                duplicate: try reader.bool("duplicate") ?? false,
                error: try reader.object("error").map(Self.error))
        } catch {
            throw Self.unreadable
        }
    }

    private static func reply(_ reader: ParamsReader) throws(SidecarError) -> SMTPReply {
        guard let code = try reader.int("code", in: 0...999), let text = try reader.string("text") else {
            throw unreadable
        }
        return SMTPReply(code: code, enhancedCode: try reader.string("enhanced_code"), text: text)
    }

    private static func error(_ reader: ParamsReader) throws(SidecarError) -> SidecarError {
        guard let code = try reader.string("code"), let message = try reader.string("message") else { throw unreadable }
        return SidecarError(
            code: ErrorCode(rawValue: code), message: message, retryable: try reader.bool("retryable") ?? false,
            field: try reader.string("field"), smtp: try reader.object("smtp").map(reply),
            retryAfterMs: try reader.int("retry_after_ms", in: 0...Int.max))
    }

    private static let unreadable = SidecarError(code: .internalError, message: "An earlier result could not be read.")
}
