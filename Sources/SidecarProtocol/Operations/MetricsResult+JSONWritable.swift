extension MetricsResult: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("content_type", contentType)
        writer.member("text", text)
        writer.endObject()
    }
}
