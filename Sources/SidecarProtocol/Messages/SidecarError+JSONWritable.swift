import SidecarCore

extension SidecarError: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("code", code.rawValue)
        writer.member("message", message)
        writer.member("retryable", retryable)
        writer.member("field", field)
        writer.member("smtp", smtp)
        writer.member("retry_after_ms", retryAfterMs)
        writer.endObject()
    }
}
