import SidecarCore

extension SendResult: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("outcome", outcome.rawValue)
        writer.member("message_id", messageID)
        writer.member("smtp", smtp)
        writer.member("phase", phase)
        writer.member("recipients", recipients)
        writer.member("duplicate", duplicate)
        writer.member("error", error)
        writer.endObject()
    }
}
