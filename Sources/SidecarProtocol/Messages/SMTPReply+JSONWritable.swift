import SidecarCore

extension SMTPReply: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("code", code)
        writer.member("enhanced_code", enhancedCode)
        writer.member("text", text)
        writer.endObject()
    }
}
